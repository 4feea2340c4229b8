import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeUrl } from './logger';
import { AppError, describeProblem, FieldError, ProblemCode, problemType } from './problem';

export interface ProblemResponse {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: number;
}

const log = new Logger('Problems');

/** Connection-level failures of PostgreSQL or the pool: the client did nothing wrong. */
function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (/^(08|57P0|53)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code))) {
    return true;
  }
  const driverError = (error as { driverError?: unknown }).driverError;
  if (driverError && driverError !== error && isDatabaseUnavailable(driverError)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Connection is not established|terminating connection|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    error.message,
  );
}

function codeForStatus(status: number): ProblemCode {
  switch (status) {
    case 400:
      return ProblemCode.ValidationFailed;
    case 401:
      return ProblemCode.Unauthorized;
    case 403:
      return ProblemCode.Forbidden;
    case 404:
      return ProblemCode.NotFound;
    case 405:
      return ProblemCode.MethodNotAllowed;
    case 409:
      return ProblemCode.Conflict;
    case 410:
      return ProblemCode.Gone;
    case 413:
      return ProblemCode.PayloadTooLarge;
    case 415:
      return ProblemCode.UnsupportedMediaType;
    case 422:
      return ProblemCode.Unprocessable;
    case 429:
      return ProblemCode.RateLimited;
    case 503:
      return ProblemCode.ServiceUnavailable;
    default:
      return status >= 500 ? ProblemCode.Internal : ProblemCode.MalformedRequest;
  }
}

function fromCode(code: ProblemCode, detail?: string, extensions: Record<string, unknown> = {}, retryAfter?: number): ProblemResponse {
  const { status, title } = describeProblem(code);
  const body: Record<string, unknown> = { type: problemType(code), title, status };
  if (detail) body.detail = detail;
  Object.assign(body, extensions);
  return { status, body, retryAfter };
}

function fromFastifyError(error: unknown): ProblemResponse | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode !== 'number' || statusCode >= 500) return undefined;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) return fromCode(ProblemCode.PayloadTooLarge);
  if (statusCode === 415) return fromCode(ProblemCode.UnsupportedMediaType, 'Send JSON with Content-Type: application/json.');
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return fromCode(ProblemCode.MalformedRequest, 'The request body is not valid JSON.');
  }
  return undefined;
}

/** Turns any thrown value into a problem; unexpected ones are logged, never shown. */
export function toProblem(error: unknown): ProblemResponse {
  if (error instanceof AppError) return fromCode(error.code, error.detail, error.extensions, error.retryAfter);

  // Fastify's own 4xx errors (body too large, bad JSON, media type) arrive wrapped by Nest.
  const fastifyProblem = fromFastifyError(error instanceof HttpException ? error.cause : error);
  if (fastifyProblem) return fastifyProblem;

  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const errors = typeof response === 'object' && response !== null ? (response as { errors?: FieldError[] }).errors : undefined;
    const detail = status === 404 ? 'No such resource.' : status < 500 ? error.message : undefined;
    return fromCode(codeForStatus(status), detail, errors ? { errors } : {});
  }

  if (isDatabaseUnavailable(error)) {
    log.warn(`database unavailable: ${(error as Error).message}`);
    return fromCode(ProblemCode.ServiceUnavailable, 'The database is unreachable; try again shortly.', {}, 5);
  }

  log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return fromCode(ProblemCode.Internal);
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemResponse): void {
  const body = { ...problem.body, instance: safeUrl(request.url) };
  if (problem.retryAfter !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(problem.retryAfter))));
  if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  reply.header('Cache-Control', 'no-store');
  reply.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), toProblem(exception));
  }
}
