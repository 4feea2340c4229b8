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

/**
 * One upstream HTTP call with the 10 s timeout. Failures below HTTP (timeout, reset,
 * refused) become a `ProviderFailure` with `network` set; any HTTP answer is returned for
 * the platform adapter to read in its own error format.
 */
export async function upstream(
  platform: Platform,
  operation: FailureSignals['operation'],
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<HttpResult> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? UPSTREAM_TIMEOUT_MS) });
  } catch (error) {
    throw new ProviderFailure({ platform, operation, network: networkKind(error), description: describe(error) });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ProviderFailure({ platform, operation, httpStatus: response.status, network: networkKind(error), description: describe(error) });
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

export function networkKind(error: unknown): NonNullable<FailureSignals['network']> {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  return 'connection';
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return String(cause?.code ?? cause?.message ?? (error as Error)?.message ?? error).slice(0, 300);
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
