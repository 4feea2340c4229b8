import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { checkWebhookUrl } from '../url-guard';

/** SPEC §11: a 2xx within 10 s is delivered; anything else is retried. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** SPEC §11: a Retry-After up to 1 h is honoured. */
const MAX_RETRY_AFTER_S = 3600;
/** What of the answer we read: enough to drain a small body, never an unbounded one. */
const MAX_ANSWER_BYTES = 64 * 1024;

export type PostOutcome =
  | { ok: true; status: number }
  | {
      ok: false;
      /** The HTTP status when there was an answer. */
      status?: number;
      /** Our own short code: `http_503`, `timeout`, `connection_failed`, `url_refused` (never the receiver's text). */
      error: string;
      /** Seconds the receiver asked us to wait (Retry-After, ≤ 1 h). */
      retryAfterSeconds?: number;
    };

// Keep-alive pools; sockets are created through the guarded lookup of the request that opened them.
const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }) };

/**
 * POSTs one signed delivery. The URL rules of SPEC §11 are checked again first (DNS may have
 * changed since the endpoint was saved), and the socket connects only to the addresses that
 * check approved: the host is not resolved a second time, so a DNS answer cannot change
 * between check and connect. Redirects are not followed (a 3xx is a failed attempt).
 */
export async function postWebhook(rawUrl: string, headers: Record<string, string>, body: string, allowPrivate: boolean, signal?: AbortSignal): Promise<PostOutcome> {
  const verdict = await checkWebhookUrl(rawUrl, { allowPrivate });
  if (!verdict.ok) return { ok: false, error: 'url_refused' };
  const url = verdict.url;
  const lookup = verdict.addresses.length > 0 ? pinnedLookup(verdict.addresses) : undefined;
  const timeout = AbortSignal.timeout(DELIVERY_TIMEOUT_MS);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  return new Promise<PostOutcome>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'autoheal-webhooks/1' },
        signal: abort,
        ...(lookup ? { lookup } : {}),
      },
      (answer) => {
        let read = 0;
        answer.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) answer.destroy();
        });
        const settle = () => {
          const status = answer.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve({ ok: true, status });
          const retryAfterSeconds = retryAfterOf(answer.headers['retry-after']);
          resolve({ ok: false, status, error: `http_${status}`, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
        };
        answer.on('end', settle);
        answer.on('close', settle); // a destroyed (oversized) answer still counts by its status
        answer.on('error', () => undefined);
      },
    );
    request.on('error', () => resolve({ ok: false, error: timeout.aborted ? 'timeout' : signal?.aborted ? 'aborted' : 'connection_failed' }));
    request.end(body);
  });
}

/** A Retry-After in seconds (delta or HTTP date) when it is at most 1 h away; otherwise undefined. */
export function retryAfterOf(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : (Date.parse(value) - now) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_RETRY_AFTER_S) return undefined;
  return Math.ceil(seconds);
}

/** A `lookup` that answers only the checked addresses (in both of the forms node:net asks for). */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, entries);
    else callback(null, entries[0].address, entries[0].family);
  }) as unknown as LookupFunction;
}
