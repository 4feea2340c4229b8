import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { WebhookEvent } from './events.js';

/** Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. Names are matched case-insensitively. */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way; default 300 s (Standard Webhooks' own). */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * Verifies a Standard Webhooks delivery and returns its event. `body` must be the raw bytes
 * as received (re-serialised JSON does not verify). `secret` is the endpoint's `whsec_…`
 * secret; pass several during a rotation (any one matching verifies). Throws
 * `WebhookVerificationError` for missing headers, a timestamp outside the tolerance, no
 * matching `v1` signature, or a body that is not an event. Dedupe on the event `id`: delivery
 * is at least once.
 */
export function verifyWebhook(body: string | Uint8Array, headers: WebhookHeaders, secret: string | readonly string[], options: VerifyOptions = {}): WebhookEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not Unix seconds');
  const tolerance = options.toleranceSeconds ?? 300;
  const skew = Number(timestamp) - Math.floor((options.now ?? Date.now)() / 1000);
  if (skew < -tolerance) throw new WebhookVerificationError('webhook-timestamp is too old');
  if (skew > tolerance) throw new WebhookVerificationError('webhook-timestamp is in the future');

  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const offered = signature
    .split(' ')
    .map((part) => part.split(','))
    .filter((part) => part.length === 2 && part[0] === 'v1')
    .map((part) => Buffer.from(part[1], 'base64'));
  const keys = (typeof secret === 'string' ? [secret] : secret).map(keyOf);
  if (keys.length === 0) throw new TypeError('no webhook secret given');
  // Every key against every signature, without stopping at the first match.
  let matched = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(bytes).digest();
    for (const candidate of offered) if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('no matching signature');
  return eventOf(bytes, id);
}

/** The HMAC key of a secret: the base64 after `whsec_` (a bare base64 key is taken as it is). */
function keyOf(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new TypeError('a webhook secret is empty or not base64');
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : value?.[0];
}

/** The event of a verified body; its id must be the `webhook-id` (the service sends the event id there). */
function eventOf(bytes: Buffer, id: string): WebhookEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('the body is not JSON');
  }
  const e = parsed as Partial<Record<keyof WebhookEvent, unknown>> | null;
  if (typeof e !== 'object' || e === null || typeof e.id !== 'string' || typeof e.type !== 'string' || typeof e.data !== 'object' || e.data === null) {
    throw new WebhookVerificationError('the body is not an event');
  }
  if (e.id !== id) throw new WebhookVerificationError('webhook-id is not the event id of the body');
  return parsed as WebhookEvent;
}
