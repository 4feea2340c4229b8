import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Role } from '../common/auth';
import { queryRows } from '../database/sql';

/** A key as the list shows it: never the key, never its hash. */
export interface ApiClientRow {
  id: string;
  name: string;
  role: Role;
  tenantIds: string[] | null;
  returnOrigins: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, name, role, tenant_ids AS "tenantIds", return_origins AS "returnOrigins", created_at AS "createdAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

/**
 * Keys whose scope lies inside `scope` (null: every key). A `*` key (tenant_ids NULL) lies
 * inside no tenant list; `<@` is array containment.
 */
function insideClause(scope: readonly string[] | null, params: unknown[]): string {
  if (scope === null) return '';
  params.push(scope);
  return ` AND tenant_ids IS NOT NULL AND tenant_ids <@ $${params.length}::uuid[]`;
}

/** The SQL of key scope: listing and revoking only inside the caller's scope, and last use. */
@Injectable()
export class ApiClientsRepository {
  constructor(private readonly db: DataSource) {}

  /** One page in id order, rows with an id above `afterId`. */
  async list(scope: readonly string[] | null, afterId: string | undefined, limit: number): Promise<ApiClientRow[]> {
    const params: unknown[] = [afterId ?? null];
    const inside = insideClause(scope, params);
    params.push(limit);
    return queryRows<ApiClientRow>(this.db, `SELECT ${COLUMNS} FROM api_clients WHERE ($1::uuid IS NULL OR id > $1::uuid)${inside} ORDER BY id LIMIT $${params.length}`, params);
  }

  /** Revokes a live key inside `scope`; false when there is none (unknown, revoked, or outside). */
  async revoke(id: string, scope: readonly string[] | null): Promise<boolean> {
    const params: unknown[] = [id];
    const inside = insideClause(scope, params);
    const rows = await queryRows(this.db, `UPDATE api_clients SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL${inside} RETURNING id`, params);
    return rows.length > 0;
  }

  /** Stamps last use, unless another request (or replica) did so within the minute. */
  async touch(id: string): Promise<void> {
    await this.db.query(`UPDATE api_clients SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]);
  }
}
