import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql';

/** An endpoint as the API shows it: never a secret. */
export interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  tenantIds: string[] | null;
  description: string | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface EndpointSecrets {
  id: string;
  secret: Buffer;
  previousSecret: Buffer | null;
  previousSecretUntil: Date | null;
}

export interface NewEndpoint {
  id: string;
  url: string;
  events: string[];
  tenantIds: string[] | null;
  description: string | null;
  createdBy: string;
  secret: Buffer;
  vaultKeyId: string;
}

export interface EndpointChange {
  url?: string;
  events?: string[];
  tenantIds?: string[] | null;
  description?: string | null;
  disabled?: boolean;
}

const COLUMNS = `id, url, events, tenant_ids AS "tenantIds", description, disabled, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Endpoints inside `scope` (null: all): a `*` endpoint (tenant_ids NULL) lies inside no tenant list. */
function insideClause(scope: readonly string[] | null, params: unknown[]): string {
  if (scope === null) return '';
  params.push(scope);
  return ` AND tenant_ids IS NOT NULL AND tenant_ids <@ $${params.length}::uuid[]`;
}

/** The SQL of webhook endpoints; every read and change is limited to the caller's scope. */
@Injectable()
export class WebhookEndpointsRepository {
  constructor(private readonly db: DataSource) {}

  async insert(e: NewEndpoint): Promise<EndpointRow> {
    const rows = await queryRows<EndpointRow>(
      this.db,
      `INSERT INTO webhook_endpoints (id, url, events, tenant_ids, description, created_by, secret, vault_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [e.id, e.url, e.events, e.tenantIds, e.description, e.createdBy, e.secret, e.vaultKeyId],
    );
    return rows[0];
  }

  async list(scope: readonly string[] | null, afterId: string | undefined, limit: number): Promise<EndpointRow[]> {
    const params: unknown[] = [afterId ?? null];
    const inside = insideClause(scope, params);
    params.push(limit);
    return queryRows<EndpointRow>(
      this.db,
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE ($1::uuid IS NULL OR id > $1::uuid)${inside} ORDER BY id LIMIT $${params.length}`,
      params,
    );
  }

  async find(id: string, scope: readonly string[] | null): Promise<EndpointRow | undefined> {
    const params: unknown[] = [id];
    const inside = insideClause(scope, params);
    return (await queryRows<EndpointRow>(this.db, `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1${inside}`, params))[0];
  }

  /** Applies the given fields to an endpoint inside `scope`; undefined when there is none. */
  async update(id: string, scope: readonly string[] | null, change: EndpointChange): Promise<EndpointRow | undefined> {
    const params: unknown[] = [id];
    const sets: string[] = [];
    const columns: Record<keyof EndpointChange, string> = { url: 'url', events: 'events', tenantIds: 'tenant_ids', description: 'description', disabled: 'disabled' };
    for (const key of Object.keys(columns) as (keyof EndpointChange)[]) {
      if (change[key] === undefined) continue;
      params.push(change[key]);
      sets.push(`${columns[key]} = $${params.length}`);
    }
    if (change.disabled === false) sets.push('failing_since = NULL'); // enabled again: its 5 days start afresh
    const inside = insideClause(scope, params);
    const rows = await queryRows<EndpointRow>(
      this.db,
      `UPDATE webhook_endpoints SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1${inside} RETURNING ${COLUMNS}`,
      params,
    );
    return rows[0];
  }

  async delete(id: string, scope: readonly string[] | null): Promise<boolean> {
    const params: unknown[] = [id];
    const inside = insideClause(scope, params);
    return (await queryRows(this.db, `DELETE FROM webhook_endpoints WHERE id = $1${inside} RETURNING id`, params)).length > 0;
  }

  async secrets(id: string): Promise<EndpointSecrets | undefined> {
    const rows = await queryRows<EndpointSecrets>(
      this.db,
      `SELECT id, secret, previous_secret AS "previousSecret", previous_secret_until AS "previousSecretUntil" FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /**
   * Rotation inside one transaction: the row is locked, `reseal` turns the current ciphertext
   * into the new pair (both under the vault's active key), and the old secret stays live for `overlapMs`.
   */
  async rotate(
    id: string,
    scope: readonly string[] | null,
    overlapMs: number,
    reseal: (current: Buffer) => { secret: Buffer; previous: Buffer; vaultKeyId: string },
  ): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const params: unknown[] = [id];
      const inside = insideClause(scope, params);
      const rows = await queryRows<{ secret: Buffer }>(m, `SELECT secret FROM webhook_endpoints WHERE id = $1${inside} FOR UPDATE`, params);
      if (rows.length === 0) return false;
      const next = reseal(rows[0].secret);
      await m.query(
        `UPDATE webhook_endpoints SET secret = $2, previous_secret = $3, previous_secret_until = now() + make_interval(secs => $4), vault_key_id = $5, updated_at = now() WHERE id = $1`,
        [id, next.secret, next.previous, overlapMs / 1000, next.vaultKeyId],
      );
      return true;
    });
  }
}
