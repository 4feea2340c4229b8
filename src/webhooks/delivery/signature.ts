import { createHmac } from 'node:crypto';
import type { Secret } from '../../vault/secret';

/**
 * Standard Webhooks signing (standardwebhooks.com, "Signature scheme"): the key is the base64
 * after `whsec_`; the signed content is `${id}.${timestamp}.${body}`; each signature is
 * `v1,` + base64 HMAC-SHA256, space-separated when several secrets are live (a rotation's
 * overlap), newest first.
 */
export function signatures(secrets: readonly Secret[], id: string, timestamp: number, body: string): string {
  const content = `${id}.${timestamp}.${body}`;
  return secrets.map((s) => `v1,${createHmac('sha256', keyOf(s)).update(content).digest('base64')}`).join(' ');
}

function keyOf(secret: Secret): Buffer {
  const text = secret.reveal();
  return Buffer.from(text.startsWith('whsec_') ? text.slice('whsec_'.length) : text, 'base64');
}
