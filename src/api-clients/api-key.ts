import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `ahk_` marks our keys for secret scanners; 32 random bytes follow. */
export function generateApiKey(): string {
  return `ahk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
