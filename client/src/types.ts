/** The service's shapes (SPEC §5; the running service's OpenAPI document is at `GET /docs-json`). */

export type Platform = 'microsoft' | 'slack' | 'webex' | 'zoom' | (string & {});
export type ConnectionStatus = 'active' | 'needs_reauth' | 'blocked' | 'revoked';
export type Audience = 'user' | 'admin';

/** `POST /v1/connections/{id}/access-token` and `…/invalidate`. */
export interface AccessToken {
  connectionId: string;
  accessToken: string;
  tokenType: string;
  /** RFC 3339; the token counts as expired at this instant. */
  expiresAt: string;
  scopes: string[];
}

export interface LastError {
  kind: 'transient' | 'client_misconfigured' | 'condition';
  condition?: string;
  audience?: string;
  code?: string;
  message: string;
  at: string;
}

/** A connection as the service shows it: never a token. */
export interface Connection {
  id: string;
  platform: Platform;
  tenantId: string;
  tenantExternalId: string;
  userExternalId: string;
  status: ConnectionStatus;
  scopes: string[];
  accessTokenExpiresAt: string | null;
  refreshTokenExpiresAt?: string;
  nextRefreshAt: string | null;
  lastRefreshAt?: string;
  lastError?: LastError;
  incidentId?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ConnectionFilter {
  platform?: Platform;
  tenantExternalId?: string;
  userExternalId?: string;
  status?: ConnectionStatus;
  cursor?: string;
  limit?: number;
}

/** The natural key of a connection. */
export interface ConnectionKey {
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string;
}

export interface ConnectLinkRequest {
  platform: Platform;
  tenantExternalId: string;
  /** When set, OAuth must come back as this user or nothing is stored. */
  userExternalId?: string;
  /** https (http for loopback) on one of the key's returnOrigins. */
  returnUrl?: string;
}

export interface ConnectLink {
  url: string;
  expiresAt: string;
}
