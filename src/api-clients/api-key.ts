import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `ahk_` marks our keys for secret scanners; 32 random bytes follow. */
export function generateApiKey(): string {
  return `ahk_${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of a key, base64: the form the key cache is indexed by. It runs on every
 * authenticated request, and one-shot `crypto.hash` to a string costs a third of `createHash`.
 */
export function apiKeyDigest(key: string): string {
  return hash('sha256', key, 'base64');
}

/** SHA-256 of a key, as stored. */
export function hashApiKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
