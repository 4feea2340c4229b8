import { Secret } from '../vault/secret';
import { field } from './http';
import type { TokenSet } from './platform';

/** A finite number field of a JSON object, if present. */
export function numberField(json: unknown, name: string): number | undefined {
  const value = json && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * An RFC 6749 §5.1 token response (`access_token`, `expires_in`, `refresh_token`, `scope`,
 * `token_type`, and the common `refresh_token_expires_in`) as a `TokenSet`; undefined when
 * it carries no access token.
 */
export function tokenSetFromJson(json: unknown, defaultTokenType = 'Bearer', now = Date.now()): TokenSet | undefined {
  const access = field(json, 'access_token');
  if (!access) return undefined;
  const refresh = field(json, 'refresh_token');
  const refreshExpiresIn = numberField(json, 'refresh_token_expires_in');
  return {
    accessToken: new Secret(access),
    refreshToken: refresh ? new Secret(refresh) : undefined,
    accessTokenExpiresAt: new Date(now + (numberField(json, 'expires_in') ?? 0) * 1000),
    refreshTokenExpiresAt: refreshExpiresIn === undefined ? undefined : new Date(now + refreshExpiresIn * 1000),
    scopes: (field(json, 'scope') ?? '').split(/\s+/).filter((s) => s.length > 0),
    tokenType: field(json, 'token_type') ?? defaultTokenType,
  };
}
