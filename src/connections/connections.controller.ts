import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { AccessTokenRequestDto, AccessTokenView, AuditListView, AuditQuery, ConnectionListView, ConnectionView, ImportConnectionDto, ListConnectionsQuery, MinValidityPipe } from './connections.dto';
import { ConnectionsService } from './connections.service';
import { TokenService } from './token.service';

@ApiTags('connections')
@ApiBearerAuth()
@Controller('v1/connections')
export class ConnectionsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly tokens: TokenService,
  ) {}

  @Get()
  @Roles('relay', 'admin')
  @ApiOperation({ summary: 'List connections, or look one up by its natural key (platform, tenantExternalId, userExternalId)' })
  @ApiOkResponse({ type: ConnectionListView })
  list(@CurrentCaller() caller: Caller, @Query() query: ListConnectionsQuery): Promise<ConnectionListView> {
    return this.connections.list(caller, query);
  }

  @Get(':id')
  @Roles('relay', 'admin')
  @ApiOkResponse({ type: ConnectionView })
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<ConnectionView> {
    return this.connections.get(caller, id);
  }

  @Get(':id/audit')
  @Roles('admin')
  @ApiOperation({ summary: 'The audit trail of a connection: token reads, refreshes, connects, imports, revokes (never a token), newest first' })
  @ApiOkResponse({ type: AuditListView })
  auditTrail(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: AuditQuery): Promise<AuditListView> {
    return this.connections.auditTrail(caller, id, query);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Import existing tokens (migration); an existing natural key has its tokens replaced (200)' })
  @ApiCreatedResponse({ type: ConnectionView })
  async import(@CurrentCaller() caller: Caller, @Body() body: ImportConnectionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ConnectionView> {
    const { created, view } = await this.connections.import(caller, body);
    reply.status(created ? 201 : 200);
    return view;
  }

  @Post(':id/access-token')
  @HttpCode(200)
  @Roles('relay')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'A valid access token now; refreshes first when it has less than minValiditySeconds left' })
  @ApiOkResponse({ type: AccessTokenView })
  @ApiConflictResponse({ description: '/problems/reauth-required with condition, audience and incidentId' })
  @ApiServiceUnavailableResponse({ description: 'The platform is unavailable and the token has expired; see Retry-After' })
  @ApiBody({ type: AccessTokenRequestDto, required: false })
  accessToken(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(MinValidityPipe) minValiditySeconds: number): Promise<AccessTokenView> {
    return this.tokens.accessToken(caller, id, minValiditySeconds);
  }

  @Post(':id/invalidate')
  @HttpCode(200)
  @Roles('relay')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The current token was refused (401): refresh now and return the new one' })
  @ApiOkResponse({ type: AccessTokenView })
  invalidate(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<AccessTokenView> {
    return this.tokens.invalidate(caller, id);
  }

  @Delete(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Revoke upstream where possible, crypto-shred the tokens, status revoked' })
  @ApiOkResponse({ type: ConnectionView })
  revoke(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<ConnectionView> {
    return this.connections.revoke(caller, id);
  }
}
