import type { Platform } from '../config/app-config';
import type { Audience, Condition } from '../platforms/conditions';
import type { SealedSecret } from '../vault/secret';

export type ConnectionStatus = 'active' | 'needs_reauth' | 'blocked' | 'revoked';

/** What the last failed refresh said; shown to clients as `lastError`. Never holds a token. */
export interface LastError {
  kind: 'transient' | 'client_misconfigured' | 'condition';
  condition?: Condition;
  audience?: Audience;
  /** The platform's code (AADSTS number, Slack error, OAuth error, HTTP status…). */
  code?: string;
  message: string;
  at: string;
}

/** A connection row as stored. Tokens stay sealed here; only the vault opens them. */
export interface ConnectionRow {
  id: string;
  tenantId: string;
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string;
  status: ConnectionStatus;
  condition: Condition | null;
  scopes: string[];
  accessToken: SealedSecret | null;
  refreshToken: SealedSecret | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  nextRefreshAt: Date | null;
  lastRefreshAt: Date | null;
  lastError: LastError | null;
  failureCount: number;
  incidentId: string | null;
  version: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  refreshStartedAt: Date | null;
  refreshCutoff: boolean;
  /** When an outage past the access token's expiry began (SPEC §11 `connection.degraded`); null when none. */
  degradedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Which tenants a read may touch: a caller's scope, or every tenant for the service's own jobs. */
export type TenantScope = readonly string[] | 'all';
