import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Paths pino removes from every line. Tokens never reach a logger in the first place (the
 * vault's `Secret` refuses to serialise); this is the second fence.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'token',
    'accessToken',
    'refreshToken',
    'apiKey',
    'botToken',
    'clientSecret',
    'secret',
    'password',
    'codeVerifier',
    'access_token',
    'refresh_token',
    'id_token',
    'client_secret',
  ].flatMap((k) => [k, `*.${k}`]),
];

/** Drops query strings and link tokens from logged URLs: both can carry secrets. */
export function safeUrl(url: string): string {
  const path = url.split('?')[0];
  return path.replace(/^\/connect\/[^/]+/, '/connect/[redacted]');
}

export function createRootLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'autoheal' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      req: (req: { id?: string; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        url: safeUrl(req.url ?? ''),
      }),
      err: pino.stdSerializers.err,
    },
  });
}

/** Lets Nest's own `Logger` write through the same pino instance (JSON lines). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string) {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.pino.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string) {
    this.pino.fatal({ context }, String(message));
  }
}
