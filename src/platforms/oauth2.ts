import { Secret } from '../vault/secret';
import { field } from './http';
import type { TokenSet } from './platform';

/** A finite number field of a JSON object, if present. */
export function numberField(json: unknown, name: string): number | undefined {
  const value = json && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Slack joins scopes with commas, the others with spaces; one splitter reads both. */
const SCOPE_SEPARATOR = /[\s,]+/;

/**
 * The scopes a token answer states: the split `scope` member, or undefined when the answer has
 * none (Webex never sends one). An empty string is a statement too: nothing was granted.
 */
export function statedScopes(scope: unknown): string[] | undefined {
  if (typeof scope !== 'string') return undefined;
  return scope.split(SCOPE_SEPARATOR).filter((s) => s.length > 0);
}

/**
 * SPEC §8, RFC 6749 §5.1 — the one rule for every platform. A `scope` member grants exactly
 * those scopes; without it the answer grants what was asked for: on a code exchange the scopes
 * the authorize request named, on a refresh the scopes the grant already holds (a refresh can
 * never silently widen or wipe a grant). Reading "no scope" as "nothing granted" would put every
 * Webex connection into scope drift right after a successful connect.
 */
export function grantedScopes(stated: string[] | undefined, requested: readonly string[]): Pick<TokenSet, 'scopes' | 'scopesStated'> {
  return stated === undefined ? { scopes: [...requested], scopesStated: false } : { scopes: stated, scopesStated: true };
}

/**
 * An RFC 6749 §5.1 token response (`access_token`, `expires_in`, `refresh_token`, `scope`,
 * `token_type`, and the common `refresh_token_expires_in`) as a `TokenSet`; undefined when
 * it carries no access token. `requestedScopes` are what the grant holds when the answer names
 * no scopes (see `grantedScopes`); a missing `token_type` means a bearer token.
 */
export function tokenSetFromJson(json: unknown, requestedScopes: readonly string[], defaultTokenType = 'Bearer', now = Date.now()): TokenSet | undefined {
  const access = field(json, 'access_token');
  if (!access) return undefined;
  const refresh = field(json, 'refresh_token');
  const refreshExpiresIn = numberField(json, 'refresh_token_expires_in');
  const scope = json && typeof json === 'object' ? (json as Record<string, unknown>).scope : undefined;
  return {
    accessToken: new Secret(access),
    refreshToken: refresh ? new Secret(refresh) : undefined,
    accessTokenExpiresAt: new Date(now + (numberField(json, 'expires_in') ?? 0) * 1000),
    refreshTokenExpiresAt: refreshExpiresIn === undefined ? undefined : new Date(now + refreshExpiresIn * 1000),
    ...grantedScopes(statedScopes(scope), requestedScopes),
    tokenType: field(json, 'token_type') ?? defaultTokenType,
  };
}
