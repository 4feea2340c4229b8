import { Controller, Get, Header, HttpCode, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth';
import { MetricsService } from './metrics.service';
import { ReadinessService } from './readiness.service';

@ApiTags('operations')
@Controller()
@Public()
export class ObservabilityController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
  ) {}

  /** Browsers ask every origin for one; an empty answer keeps a 404 out of their consoles. */
  @Get('favicon.ico')
  @HttpCode(204)
  @Header('Cache-Control', 'public, max-age=86400')
  @ApiExcludeEndpoint()
  favicon(): void {}

  @Get('health/live')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: 'The process is up' })
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: '`{status: "ok", details: {database: "up", ...}}`; vault key ids only for a `*` admin key' })
  @ApiServiceUnavailableResponse({ description: 'Not ready: `details` says which part is down' })
  async ready(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const operator = request.caller?.role === 'admin' && request.caller.tenantIds === null;
    const report = await this.readiness.check(operator);
    reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }

  @Get('metrics')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  async scrape(@Res() reply: FastifyReply) {
    reply.header('Content-Type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
