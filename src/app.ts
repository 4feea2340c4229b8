import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyBaseLogger, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { securityHeaders } from './common/security-headers';
import { nestedDeeperThan } from './common/json-depth';
import { AppError, ProblemCode } from './common/problem';
import { ProblemFilter, sendProblem, toProblem } from './common/problem.filter';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { MetricsService } from './observability/metrics.service';

export const BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the HTTP application for a configuration and database (migrations already run).
 * Shared by `main.ts` and the tests, so tests exercise exactly what production serves.
 */
export async function createApp(config: AppConfig, databaseUrl: string, logger?: Logger): Promise<NestFastifyApplication> {
  const root = logger ?? createRootLogger(config.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: root,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    // One logger for every request: a pino child each (its bindings serialised per request) cost
    // more than parts of the token read itself; the access line below names the request id.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    logger: new PinoNestLogger(root),
    abortOnError: false,
  });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(createValidationPipe());

  // No hook: only the OAuth callback and the board read cookies (parsed there), and the token read pays nothing.
  await app.register(fastifyCookie, { hook: false });
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  const headers = securityHeaders(config.publicBaseUrl.startsWith('https:'));
  // Callback-style hooks: they run on every request, and an async hook costs a promise each.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    headers(request, reply);
    const name = request.url.includes('?') ? repeatedParameter(request.query) : undefined;
    // Answered here, before any route code: a value that arrives as an array is no string.
    if (name !== undefined)
      return sendProblem(reply, request, toProblem(new AppError(ProblemCode.ValidationFailed, `The query parameter "${name.slice(0, 64)}" is given more than once.`)));
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    request.log[level]({ reqId: request.id, req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Auto Heal token service')
      .setDescription('Owns OAuth tokens of chat-bridging relays, refreshes them, and heals them when they die.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from POST /v1/api-clients or ADMIN_API_KEY' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  await app.init();
  // An empty body with Content-Type: application/json (common from HTTP clients) means "no
  // body", not a JSON syntax error. Anything else goes to Fastify's own parser, which keeps
  // its prototype-poisoning checks.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    const text = body.toString();
    if (text.length === 0) return done(null, undefined);
    if (nestedDeeperThan(text)) return done(new AppError(ProblemCode.MalformedRequest, 'The JSON body is nested deeper than 32 levels.'), undefined);
    void json(request, text, done);
  });
  return app;
}

/** The first query parameter given more than once (SPEC §5: a 400), if any. */
function repeatedParameter(query: unknown): string | undefined {
  if (!query || typeof query !== 'object') return undefined;
  for (const [name, value] of Object.entries(query)) if (Array.isArray(value)) return name;
  return undefined;
}
