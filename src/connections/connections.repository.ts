import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { DataSource } from 'typeorm';
import type { Platform } from '../config/app-config';
import { CONNECTION_COLUMNS as COLUMNS, Db, scopeClause, toConnectionRow as toRow } from './connection-row';
import { ConnectionRow, ConnectionStatus, TenantScope } from './connection.types';

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
 * The SQL of connections but their status: reads (customer data takes a `TenantScope`),
 * the refresh lease, and writes that leave the status as it is. Every write of the status,
 * and of tokens with it, is in ConnectionState (SPEC §2 in one place).
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
    const rows = await queryRows(
      db,
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

  /**
   * Takes the refresh lease of one active (for a probe: blocked) connection, recording the
   * refresh as in flight (committed before any upstream call). Undefined when another
   * holder's lease is live. The lease gates ConnectionState's refresh writes.
   */
  async claim(id: string, owner: string, leaseMs: number, status: 'active' | 'blocked' = 'active'): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(
      this.db,
      `UPDATE connections SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond', refresh_started_at = now()
       WHERE id = $1 AND status = $4 AND (lease_until IS NULL OR lease_until < now())
       RETURNING ${COLUMNS}`,
      [id, owner, leaseMs, status],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Claims up to `limit` due connections for the sweep; replicas skip each other's rows. */
  async claimDue(owner: string, limit: number, leaseMs: number): Promise<ConnectionRow[]> {
    const rows = await queryRows(
      this.db,
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

  async releaseLease(id: string, owner: string): Promise<void> {
    await queryRows(this.db, `UPDATE connections SET lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
  }

  /**
   * Refreshes cut off by a crash: in flight, lease expired. Marks them (so a refused
   * refresh token is known as a rotation lost) and makes them due now. Returns them.
   */
  async adoptCutoffs(deadOwners: readonly string[]): Promise<{ id: string; platform: Platform }[]> {
    return queryRows(
      this.db,
      `UPDATE connections SET refresh_cutoff = true, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL,
         next_refresh_at = LEAST(COALESCE(next_refresh_at, now()), now())
       WHERE refresh_started_at IS NOT NULL AND (lease_until < now() OR lease_owner = ANY($1)) AND status IN ('active', 'blocked')
       RETURNING id, platform`,
      [deadOwners],
    );
  }

  /** Owners of live refresh leases (to spot those of crashed processes on this host). */
  async leaseOwners(): Promise<string[]> {
    const rows: { owner: string }[] = await queryRows(
      this.db,
      `SELECT DISTINCT lease_owner AS owner FROM connections WHERE refresh_started_at IS NOT NULL AND lease_owner IS NOT NULL`,
    );
    return rows.map((r) => r.owner);
  }
}
