import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../common/auth';
import { queryRows } from '../database/sql';

export interface Overview {
  connections: { platform: string; status: string; n: number }[];
  openIncidents: { platform: string; condition: string; audience: string; n: number }[];
  healTimes: { platform: string; resolved: number; medianSeconds: number; p90Seconds: number }[];
  promptsFailed: number;
  /** Refresh outcomes per hour, the last 24 h (from the audit trail). */
  refreshes: { hour: Date; outcome: string; n: number }[];
}

export interface AffectedRow {
  id: string;
  platform: string;
  userExternalId: string;
  status: string;
}

export interface TenantRow {
  id: string;
  platform: string;
  externalId: string;
  name: string;
  admins: { userExternalId: string; email?: string; displayName?: string }[];
  bot: { serviceUrl?: string; accountId?: string };
  botTokenConfigured: boolean;
}

/**
 * The board's reads that no API route makes (SPEC §12 overview, the tenant list), each scoped
 * to the caller's tenants with `tenant_id = ANY($1)` (null: every tenant). Each is one grouped
 * statement over an index or one pass over the table: bench:board measures them at 100,000
 * connections.
 */
@Injectable()
export class BoardQueries {
  constructor(private readonly db: DataSource) {}

  async overview(caller: Caller): Promise<Overview> {
    const scope = caller.tenantIds;
    const where = (column = 'tenant_id') => `($1::uuid[] IS NULL OR ${column} = ANY($1::uuid[]))`;
    const [connections, openIncidents, healTimes, failed, refreshes] = await Promise.all([
      queryRows<Overview['connections'][number]>(this.db, `SELECT platform, status, count(*)::int AS n FROM connections WHERE ${where()} GROUP BY 1, 2 ORDER BY 1, 2`, [scope]),
      queryRows<Overview['openIncidents'][number]>(
        this.db,
        `SELECT platform, condition, audience, count(*)::int AS n FROM incidents WHERE status = 'open' AND ${where()} GROUP BY 1, 2, 3 ORDER BY 1, 2`,
        [scope],
      ),
      queryRows<Overview['healTimes'][number]>(
        this.db,
        `SELECT platform, count(*)::int AS resolved,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))::float AS "medianSeconds",
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))::float AS "p90Seconds"
           FROM incidents WHERE status = 'resolved' AND resolved_at > now() - interval '30 days' AND ${where()} GROUP BY 1 ORDER BY 1`,
        [scope],
      ),
      queryRows<{ n: number }>(this.db, `SELECT count(*)::int AS n FROM prompts WHERE status = 'failed' AND created_at > now() - interval '30 days' AND ${where()}`, [scope]),
      queryRows<Overview['refreshes'][number]>(
        this.db,
        `SELECT date_trunc('hour', at) AS hour, outcome, count(*)::int AS n FROM audit_events
          WHERE action = 'token.refresh' AND at > now() - interval '24 hours' AND ${where()} GROUP BY 1, 2 ORDER BY 1`,
        [scope],
      ),
    ]);
    return { connections, openIncidents, healTimes, promptsFailed: failed[0]?.n ?? 0, refreshes };
  }

  /** The first `limit` of an incident's connections inside the caller's scope: one statement, however many users it affects. */
  affected(caller: Caller, connectionIds: string[], limit: number): Promise<AffectedRow[]> {
    return queryRows<AffectedRow>(
      this.db,
      `SELECT id::text, platform, user_external_id AS "userExternalId", status FROM connections
        WHERE id = ANY($1::uuid[]) AND ($2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[])) ORDER BY user_external_id LIMIT $3`,
      [connectionIds, caller.tenantIds, limit],
    );
  }

  /** The prompts of the incidents this connection was in (its own and its tenant's admin incidents), newest first. */
  promptsOf(caller: Caller, connectionId: string, limit: number): Promise<{ at: Date; kind: string; recipient: string; status: string; condition: string }[]> {
    return queryRows(
      this.db,
      `SELECT coalesce(p.sent_at, p.created_at) AS at, p.kind, p.recipient, p.status, i.condition
         FROM prompts p JOIN incidents i ON i.id = p.incident_id
        WHERE p.incident_id IN (SELECT incident_id FROM incident_connections WHERE connection_id = $1)
          AND ($2::uuid[] IS NULL OR p.tenant_id = ANY($2::uuid[]))
        ORDER BY 1 DESC LIMIT $3`,
      [connectionId, caller.tenantIds, limit],
    );
  }

  tenants(caller: Caller, limit: number, afterId?: string): Promise<TenantRow[]> {
    return queryRows<TenantRow>(
      this.db,
      `SELECT id::text, platform, external_id AS "externalId", name, admins, bot, bot_secret IS NOT NULL AS "botTokenConfigured"
         FROM tenants WHERE ($1::uuid[] IS NULL OR id = ANY($1::uuid[])) AND ($2::uuid IS NULL OR id > $2::uuid)
        ORDER BY id LIMIT $3`,
      [caller.tenantIds, afterId ?? null, limit],
    );
  }
}
