import { Agent as HttpAgent, IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Platform } from '../config/app-config';
import { FailureSignals, ProviderFailure } from './platform';

/** SPEC §3: upstream calls time out after 10 s. */
export const UPSTREAM_TIMEOUT_MS = 10_000;

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
  text: string;
}

export interface UpstreamInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/**
 * Kept-alive sockets per origin. `node:http` rather than `fetch`: a sweep makes a thousand
 * upstream calls a second, and fetch's streams and abort signals cost several times the CPU
 * of the call itself here (measured in bench:sweep).
 */
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/**
 * One upstream HTTP call with the 10 s timeout (for the answer and its body together).
 * Failures below HTTP (timeout, reset, refused) become a `ProviderFailure` with `network` set;
 * any HTTP answer is returned for the platform adapter to read in its own error format.
 */
export async function upstream(platform: Platform, operation: FailureSignals['operation'], url: string, init: UpstreamInit = {}): Promise<HttpResult> {
  let answer: { status: number; headers: IncomingHttpHeaders; text: string };
  try {
    answer = await send(new URL(url), init);
  } catch (error) {
    const status = (error as { httpStatus?: number }).httpStatus;
    throw new ProviderFailure({ platform, operation, ...(status ? { httpStatus: status } : {}), network: networkKind(error), description: describeError(error) });
  }
  let json: unknown;
  try {
    json = answer.text ? JSON.parse(answer.text) : undefined;
  } catch {
    json = undefined;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return { status: answer.status, headers, json, text: answer.text };
}

function send(url: URL, init: UpstreamInit): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    let done = false;
    const settle = (error?: unknown, answer?: { status: number; headers: IncomingHttpHeaders; text: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (answer) resolve(answer);
      else reject(Object.assign(error instanceof Error ? error : new Error(String(error)), status ? { httpStatus: status } : {}));
    };
    const secure = url.protocol === 'https:';
    const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    const req = (secure ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: agents[secure ? 'https:' : 'http:'] });
    const timer = setTimeout(() => {
      settle(Object.assign(new Error('the platform did not answer in time'), { name: 'TimeoutError' }));
      req.destroy();
    }, init.timeoutMs ?? UPSTREAM_TIMEOUT_MS);
    req.on('error', (error) => settle(error));
    req.on('response', (res) => {
      status = res.statusCode;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => settle(error));
      res.on('aborted', () => settle(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
      res.on('end', () => settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(init.body);
  });
}

export function networkKind(error: unknown): NonNullable<FailureSignals['network']> {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  return 'connection';
}

const DESCRIPTION_MAX = 300;

/** A failure's description as `FailureSignals` keeps it: trimmed, at most 300 characters, none when empty. */
export function trimDescription(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed.slice(0, DESCRIPTION_MAX) : undefined;
}

/**
 * The description of a failure below HTTP: the socket-level code of its cause (ECONNRESET,
 * UND_ERR_SOCKET …) says more than fetch's or an SDK's "fetch failed"; else the cause's
 * message, else the error's own.
 */
export function describeError(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } | null } | null | undefined)?.cause;
  const text = [cause?.code, cause?.message, (error as { message?: unknown } | null | undefined)?.message].find((t) => typeof t === 'string');
  return trimDescription(typeof text === 'string' ? text : String(error));
}

/** Seconds from a `Retry-After` header (delta-seconds or HTTP date). */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** A string field of a JSON object, if present. */
export function field(json: unknown, name: string): string | undefined {
  const value = json && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}
