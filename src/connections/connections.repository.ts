import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../config/app-config';
import type { SealedSecret } from '../vault/secret';
import { ConnectionRow, ConnectionStatus, LastError, TenantScope } from './connection.types';

type Db = DataSource | EntityManager;

const COLUMNS = `id, tenant_id, platform, tenant_external_id, user_external_id, status, condition, scopes,
  access_token, refresh_token, access_token_expires_at, refresh_token_expires_at, next_refresh_at,
  last_refresh_at, last_error, failure_count, incident_id, version::float8 AS version, lease_owner,
  lease_until, refresh_started_at, refresh_cutoff, created_at, updated_at`;

function toRow(r: Record<string, unknown>): ConnectionRow {
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
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

/** `AND tenant_id = ANY($n)` unless the scope is every tenant. */
function scopeClause(scope: TenantScope, params: unknown[]): string {
  if (scope === 'all') return '';
  params.push(scope);
  return ` AND tenant_id = ANY($${params.length}::uuid[])`;
}

export interface TokenWrite {
  accessToken: SealedSecret;
  /**
   * Always written, even when the platform did not rotate it (then the same plaintext,
   * sealed again): every ciphertext of a row must use the row's `vault_key_id`.
   */
  refreshToken: SealedSecret | null;
  vaultKeyId: string;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt?: Date | null;
  scopes: string[];
  nextRefreshAt: Date | null;
}

/** A refresh result to commit over the version the refresher read. */
export interface RefreshCommit {
  id: string;
  version: number;
  write: TokenWrite;
}

export interface ListFilter {
  platform?: Platform;
  tenantExternalId?: string;
  userExternalId?: string;
  status?: ConnectionStatus;
  /** Exclusive: rows with a larger id. */
  afterId?: string;
  limit: number;
}

/**
 * The SQL of connections. Reads of customer data take a `TenantScope`; writes on the
 * refresh path are fenced by the lease owner and, where they replace tokens, by `version`.
 */
@Injectable()
export class ConnectionsRepository {
  constructor(readonly db: DataSource) {}

  async findById(id: string, scope: TenantScope, db: Db = this.db): Promise<ConnectionRow | undefined> {
    const params: unknown[] = [id];
    const rows = await queryRows(db, `SELECT ${COLUMNS} FROM connections WHERE id = $1${scopeClause(scope, params)}`, params);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async findByNaturalKey(platform: Platform, tenantExternalId: string, userExternalId: string, scope: TenantScope, db: Db = this.db, lock = false) {
    const params: unknown[] = [platform, tenantExternalId, userExternalId];
    const rows = await queryRows(db,
      `SELECT ${COLUMNS} FROM connections WHERE platform = $1 AND tenant_external_id = $2 AND user_external_id = $3${scopeClause(scope, params)}${lock ? ' FOR UPDATE' : ''}`,
      params,
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async list(filter: ListFilter, scope: TenantScope): Promise<ConnectionRow[]> {
    const params: unknown[] = [];
    const where: string[] = ['true'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.platform) add('platform = ?', filter.platform);
    if (filter.tenantExternalId) add('tenant_external_id = ?', filter.tenantExternalId);
    if (filter.userExternalId) add('user_external_id = ?', filter.userExternalId);
    if (filter.status) add('status = ?', filter.status);
    if (filter.afterId) add('id > ?', filter.afterId);
    const scoped = scopeClause(scope, params);
    params.push(filter.limit);
    const rows = await queryRows(this.db, `SELECT ${COLUMNS} FROM connections WHERE ${where.join(' AND ')}${scoped} ORDER BY id LIMIT $${params.length}`, params);
    return rows.map(toRow);
  }

  async insert(db: Db, row: { id: string; tenantId: string; platform: Platform; tenantExternalId: string; userExternalId: string } & TokenWrite): Promise<ConnectionRow> {
    const rows = await queryRows(db,
      `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, scopes, access_token,
         refresh_token, vault_key_id, access_token_expires_at, refresh_token_expires_at, next_refresh_at)
       VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [row.id, row.tenantId, row.platform, row.tenantExternalId, row.userExternalId, row.scopes, row.accessToken, row.refreshToken,
        row.vaultKeyId, row.accessTokenExpiresAt, row.refreshTokenExpiresAt ?? null, row.nextRefreshAt],
    );
    return toRow(rows[0]);
  }

  /**
   * Replaces the tokens of an existing connection and makes it active (import, re-sync).
   * Not fenced by version: a user completing OAuth is newer than anything in flight, and
   * the version bump makes any in-flight refresh's fenced write lose.
   */
  async replaceTokens(db: Db, id: string, t: TokenWrite): Promise<ConnectionRow> {
    const rows = await queryRows(db,
      `UPDATE connections SET status = 'active', condition = NULL, scopes = $2, access_token = $3, refresh_token = $4,
         vault_key_id = $5, access_token_expires_at = $6, refresh_token_expires_at = $7, next_refresh_at = $8,
         last_error = NULL, failure_count = 0, incident_id = NULL, version = version + 1, lease_owner = NULL,
         lease_until = NULL, refresh_started_at = NULL, refresh_cutoff = false, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, t.scopes, t.accessToken, t.refreshToken, t.vaultKeyId, t.accessTokenExpiresAt, t.refreshTokenExpiresAt ?? null, t.nextRefreshAt],
    );
    return toRow(rows[0]);
  }

  /**
   * Takes the refresh lease of one active connection, recording the refresh as in flight
   * (committed before any upstream call). Undefined when another holder's lease is live.
   */
  async claim(id: string, owner: string, leaseMs: number, status: 'active' | 'blocked' = 'active'): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(this.db,
      `UPDATE connections SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond', refresh_started_at = now()
       WHERE id = $1 AND status = $4 AND (lease_until IS NULL OR lease_until < now())
       RETURNING ${COLUMNS}`,
      [id, owner, leaseMs, status],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Claims up to `limit` due connections for the sweep; replicas skip each other's rows. */
  async claimDue(owner: string, limit: number, leaseMs: number): Promise<ConnectionRow[]> {
    const rows = await queryRows(this.db,
      `UPDATE connections c SET lease_owner = $1, lease_until = now() + $3 * interval '1 millisecond', refresh_started_at = now()
       FROM (SELECT id AS due_id FROM connections
              WHERE status = 'active' AND next_refresh_at IS NOT NULL AND next_refresh_at <= now()
                AND (lease_until IS NULL OR lease_until < now())
              ORDER BY next_refresh_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
       WHERE c.id = due.due_id
       RETURNING ${COLUMNS}`,
      [owner, limit, leaseMs],
    );
    return rows.map(toRow);
  }

  /**
   * Commits refresh results, each fenced on its own: only the lease holder, only over the
   * version it read. One statement for many rows (see RefreshCommits); rows lock in id order,
   * the same in every such statement. Returns the rows written; a missing one lost its fence.
   */
  async commitRefreshes(owner: string, commits: readonly RefreshCommit[]): Promise<ConnectionRow[]> {
    const c = [...commits].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows = await queryRows(this.db,
      `UPDATE connections SET status = 'active', condition = NULL, access_token = u_access, refresh_token = u_refresh, vault_key_id = u_key,
         access_token_expires_at = u_access_expires, refresh_token_expires_at = COALESCE(u_refresh_expires, refresh_token_expires_at),
         scopes = ARRAY(SELECT jsonb_array_elements_text(u_scopes)), next_refresh_at = u_next, last_refresh_at = now(), last_error = NULL,
         failure_count = 0, version = version + 1, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL, refresh_cutoff = false,
         updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::timestamptz[])
         AS u (u_id, u_version, u_access, u_refresh, u_key, u_access_expires, u_refresh_expires, u_scopes, u_next)
       WHERE id = u_id AND lease_owner = $1 AND version = u_version RETURNING ${COLUMNS}`,
      [owner, c.map((x) => x.id), c.map((x) => x.version), c.map((x) => x.write.accessToken), c.map((x) => x.write.refreshToken),
        c.map((x) => x.write.vaultKeyId), c.map((x) => x.write.accessTokenExpiresAt), c.map((x) => x.write.refreshTokenExpiresAt ?? null),
        c.map((x) => JSON.stringify(x.write.scopes)), c.map((x) => x.write.nextRefreshAt)],
    );
    return rows.map(toRow);
  }

  /** A transient failure: keep status and tokens, note the error, retry at `nextRefreshAt`. */
  async recordTransient(id: string, owner: string, error: LastError, nextRefreshAt: Date): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(this.db,
      `UPDATE connections SET last_error = $3, failure_count = failure_count + 1, next_refresh_at = $4,
         lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL, updated_at = now()
       WHERE id = $1 AND lease_owner = $2 RETURNING ${COLUMNS}`,
      [id, owner, error, nextRefreshAt],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** A permanent failure on the version the refresher read: the connection needs healing. */
  async markBroken(id: string, owner: string, version: number, status: 'needs_reauth' | 'blocked', error: LastError): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(this.db,
      `UPDATE connections SET status = $4, condition = $5, last_error = $6, next_refresh_at = NULL, version = version + 1,
         lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL, refresh_cutoff = false, updated_at = now()
       WHERE id = $1 AND lease_owner = $2 AND version = $3 RETURNING ${COLUMNS}`,
      [id, owner, version, status, error.condition ?? null, error],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Scope drift found on the version just written: blocked, `consent_required`. */
  async markDrift(id: string, version: number, error: LastError): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(this.db,
      `UPDATE connections SET status = 'blocked', condition = 'consent_required', last_error = $3, next_refresh_at = NULL,
         version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $2 AND status = 'active' RETURNING ${COLUMNS}`,
      [id, version, error],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await queryRows(this.db, `UPDATE connections SET lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
  }

  /** Crypto-shreds the tokens and marks the connection revoked, in one statement. */
  async revoke(id: string, scope: TenantScope): Promise<ConnectionRow | undefined> {
    const params: unknown[] = [id];
    const rows = await queryRows(this.db,
      `UPDATE connections SET status = 'revoked', access_token = NULL, refresh_token = NULL, vault_key_id = NULL,
         next_refresh_at = NULL, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL,
         version = version + 1, updated_at = now()
       WHERE id = $1 AND status <> 'revoked'${scopeClause(scope, params)} RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Refreshes cut off by a crash: in flight, lease expired. Marks them (so a refused
   * refresh token is known as a rotation lost) and makes them due now. Returns them.
   */
  async adoptCutoffs(deadOwners: readonly string[]): Promise<{ id: string; platform: Platform }[]> {
    return queryRows(this.db,
      `UPDATE connections SET refresh_cutoff = true, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL,
         next_refresh_at = LEAST(COALESCE(next_refresh_at, now()), now())
       WHERE refresh_started_at IS NOT NULL AND (lease_until < now() OR lease_owner = ANY($1)) AND status IN ('active', 'blocked')
       RETURNING id, platform`,
      [deadOwners],
    );
  }

  /** Owners of live refresh leases (to spot those of crashed processes on this host). */
  async leaseOwners(): Promise<string[]> {
    const rows: { owner: string }[] = await queryRows(this.db, `SELECT DISTINCT lease_owner AS owner FROM connections WHERE refresh_started_at IS NOT NULL AND lease_owner IS NOT NULL`);
    return rows.map((r) => r.owner);
  }
}
