import type { SignalTable } from './classify';
import type { PlatformScopes } from './scope-catalog';

/**
 * A platform's OAuth facts as data (SPEC §13): everything `OAuth2Provider` needs to connect,
 * refresh, identify, revoke and classify. Webex and Zoom are such descriptions
 * (webex/webex-provider.ts, zoom/zoom-provider.ts); PROVIDERS_FILE adds generic ones
 * (generic/providers-file.ts). Microsoft and Slack keep code: docs/providers.md says why.
 */
export interface ProviderDescription {
  name: string;
  clientId?: string;
  clientSecret?: string;
  /** Where the endpoints come from: fixed URLs, or an OIDC issuer's discovery document (read on first use). */
  endpoints: Endpoints | { issuer: string };
  /** RFC 6749 §2.3.1: HTTP Basic, or client id and secret in the form body. */
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  /** Send an S256 PKCE challenge (RFC 7636). */
  pkce: boolean;
  /** How the authorize request joins scopes. */
  scopeSeparator: ' ' | ',';
  /** Whether token answers echo the granted `scope`; without it the grant is what was asked for (SPEC §8). */
  scopesEchoed: boolean;
  /** Refresh tokens rotate: each answer carries a new one and the old one dies. */
  rotatesRefreshToken: boolean;
  /** Extra authorize parameters (`prompt=consent` for an OIDC `offline_access` grant, say). */
  authorizeParams?: Readonly<Record<string, string>>;
  identity: IdentitySource;
  /** The refresh token's documented idle lifetime; a dead grant past it is `refresh_token_inactive`. */
  refreshIdleLifetimeMs?: number;
  /** Answer fields holding the platform's own failure code, first present wins (Zoom: `reason`, `code`). */
  failureCodeFields: readonly string[];
  /** Revocation answers (platform codes) that mean the grant was already gone. */
  revokeGoneCodes?: readonly string[];
  /** Which token RFC 7009 revocation sends: Zoom revokes by access token, the RFC prefers the refresh token. */
  revokeWith?: 'access_token' | 'refresh_token';
  defaultTokenType: string;
  scopes: PlatformScopes;
  signals: SignalTable;
  /** Bot prompts, or §11 events only (generic providers have no bot). */
  prompts: 'bot' | 'events';
}

export interface Endpoints {
  authorizeUrl: string;
  tokenUrl: string;
  /** RFC 7009; without it a delete revokes nothing upstream. */
  revocationUrl?: string;
  userInfoUrl?: string;
  /** Set when the endpoints came from discovery: an ID token's `iss` must equal it. */
  issuer?: string;
}

/** Where the user and tenant ids come from: ID-token claims, or a user-info answer's JSON paths. */
export type IdentitySource =
  | { from: 'id_token'; user: string; tenant?: string; name?: string; email?: string }
  | { from: 'userinfo'; url?: string; user: string; tenant?: string; name?: string; email?: string };

/** Generic providers without a `tenantClaim` put every connection in this tenant (SPEC §13). */
export const DEFAULT_TENANT = 'default';
