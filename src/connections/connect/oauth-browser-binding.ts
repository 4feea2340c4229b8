import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Binds an OAuth flow to the browser that started it (SPEC §5). The nonce travels only in an
 * HttpOnly cookie; the state row keeps its SHA-256. Each state has its own cookie, named after
 * the state, so several tabs or links in one browser each keep their binding, and the callback
 * reads exactly one cookie whatever else the browser sends.
 */
export const NONCE_COOKIE_PREFIX = 'ah_oauth_';
/** Only the callback needs the cookie; no other page ever sees it. */
export const NONCE_COOKIE_PATH = '/oauth/';

export interface NonceCookie {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The cookie that carries the nonce of `state`: its name is 16 characters of the state's hash. */
export function nonceCookieName(state: string): string {
  return NONCE_COOKIE_PREFIX + digest(state).toString('base64url').slice(0, 16);
}

/** A fresh nonce (32 random bytes) for a new state: the cookie to set and the hash to store. */
export function newBinding(state: string, ttlMs: number): { cookie: NonceCookie; nonceHash: Buffer } {
  const value = randomBytes(32).toString('base64url');
  return { cookie: { name: nonceCookieName(state), value, maxAgeSeconds: Math.floor(ttlMs / 1000) }, nonceHash: digest(value) };
}

/** Whether the browser presented the nonce whose hash was stored; compared in constant time. */
export function presentsNonce(cookies: Readonly<Record<string, string | undefined>>, state: string, storedHash: Buffer | null): boolean {
  const presented = cookies[nonceCookieName(state)];
  if (presented === undefined || presented.length > 128 || storedHash === null) return false;
  const hash = digest(presented);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
