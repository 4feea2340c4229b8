import type { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../config/app-config';
import type { SealedSecret } from '../vault/secret';
import type { ConnectionRow, ConnectionStatus, LastError, TenantScope } from './connection.types';

/** Where a connection statement runs: the pool, or the caller's transaction. */
export type Db = DataSource | EntityManager;

/** The columns every statement returns, shared by the repository and the state module. */
export const CONNECTION_COLUMNS = `id, tenant_id, platform, tenant_external_id, user_external_id, status, condition, scopes,
  access_token, refresh_token, access_token_expires_at, refresh_token_expires_at, next_refresh_at,
  last_refresh_at, last_error, failure_count, incident_id, version::float8 AS version, lease_owner,
  lease_until, refresh_started_at, refresh_cutoff, degraded_at, created_at, updated_at`;

export function toConnectionRow(r: Record<string, unknown>): ConnectionRow {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    platform: r.platform as Platform,
    tenantExternalId: r.tenant_external_id as string,
    userExternalId: r.user_external_id as string,
    status: r.status as ConnectionStatus,
    condition: (r.condition as ConnectionRow['condition']) ?? null,
    scopes: (r.scopes as string[]) ?? [],
    accessToken: (r.access_token as SealedSecret) ?? null,
    refreshToken: (r.refresh_token as SealedSecret) ?? null,
    accessTokenExpiresAt: (r.access_token_expires_at as Date) ?? null,
    refreshTokenExpiresAt: (r.refresh_token_expires_at as Date) ?? null,
    nextRefreshAt: (r.next_refresh_at as Date) ?? null,
    lastRefreshAt: (r.last_refresh_at as Date) ?? null,
    lastError: (r.last_error as LastError) ?? null,
    failureCount: r.failure_count as number,
    incidentId: (r.incident_id as string) ?? null,
    version: r.version as number,
    leaseOwner: (r.lease_owner as string) ?? null,
    leaseUntil: (r.lease_until as Date) ?? null,
    refreshStartedAt: (r.refresh_started_at as Date) ?? null,
    refreshCutoff: r.refresh_cutoff as boolean,
    degradedAt: (r.degraded_at as Date) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

/** `AND tenant_id = ANY($n)` unless the scope is every tenant. */
export function scopeClause(scope: TenantScope, params: unknown[]): string {
  if (scope === 'all') return '';
  params.push(scope);
  return ` AND tenant_id = ANY($${params.length}::uuid[])`;
}
