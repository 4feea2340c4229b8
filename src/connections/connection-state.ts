import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../config/app-config';
import { queryRows } from '../database/sql';
import { connectionEvent } from '../events/event-data';
import { EventLog } from '../events/event-log';
import type { SealedSecret } from '../vault/secret';
import { CONNECTION_COLUMNS as COLUMNS, Db, scopeClause, toConnectionRow as toRow } from './connection-row';
import type { ConnectionRow, ConnectionStatus, LastError, TenantScope } from './connection.types';

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
  /** The row's `degradedAt` as the lease holder read it (only it moves the column): the commit ends that outage. */
  degradedAt?: Date | null;
}

/** A permanent refresh failure to write over the version the refresher read. */
export interface BrokenMark {
  id: string;
  version: number;
  status: BrokenStatus;
  error: LastError;
}

export interface NewConnection extends TokenWrite {
  id: string;
  tenantId: string;
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string;
}

/**
 * SPEC §2 as the statements below carry it out: for each write, the statuses a row may be
 * in for the write to take (`new`: no row yet) and the statuses it leaves. Where `from` is
 * narrower than the statement's WHERE, the lease is the gate: only `claim` (active or
 * blocked rows) hands out the lease that `refreshed` and `broken` are fenced on.
 */
export const TRANSITIONS = {
  /** A first connect or import of a natural key. */
  created: { from: ['new'], to: ['active'] },
  /**
   * A re-connect, re-sync or import of an existing natural key: the same connection (same
   * id) is active again whatever it was, revoked included (SPEC §2: it "updates that same
   * connection"); a new grant is newer than anything in flight.
   */
  reconnected: { from: ['active', 'needs_reauth', 'blocked', 'revoked'], to: ['active'] },
  /** A refresh committed (a blocked row here is an admin incident's probe that worked). */
  refreshed: { from: ['active', 'blocked'], to: ['active'] },
  /** A permanent refresh failure: user audience → needs_reauth, admin audience → blocked. */
  broken: { from: ['active', 'blocked'], to: ['needs_reauth', 'blocked'] },
  /** Granted scopes lack a required one (SPEC §8): admin audience. */
  drifted: { from: ['active'], to: ['blocked'] },
  /** The admin incident that blocked the row resolved: healed. */
  released: { from: ['blocked'], to: ['active'] },
  /** Deleted by a client; final for every write but a new grant (`reconnected`). */
  revoked: { from: ['active', 'needs_reauth', 'blocked'], to: ['revoked'] },
} as const satisfies Record<string, { from: readonly (ConnectionStatus | 'new')[]; to: readonly ConnectionStatus[] }>;

export type Transition = keyof typeof TRANSITIONS;
export type BrokenStatus = (typeof TRANSITIONS.broken.to)[number];

/**
 * The one writer of `connections.status`: every statement that sets it is here, each with
 * the fence it has always had (lease owner and version on the refresh path, the status
 * itself elsewhere), so the rules of SPEC §2 are read in one file. Heal, refresh and revoke
 * ask this module; none writes the row itself. Methods that must share the caller's
 * transaction (an incident written with the row) take its EntityManager.
 */
@Injectable()
export class ConnectionState {
  constructor(
    private readonly db: DataSource,
    /** SPEC §11: each transition's event is written in the transaction of the write. */
    private readonly events: EventLog,
  ) {}

  /** `created`: a new natural key. Its unique constraint fences two first connects at once. */
  async create(m: Db, row: NewConnection): Promise<ConnectionRow> {
    if (m instanceof DataSource) return m.transaction((t) => this.create(t, row));
    const rows = await queryRows(
      m,
      `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, scopes, access_token,
         refresh_token, vault_key_id, access_token_expires_at, refresh_token_expires_at, next_refresh_at)
       VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        row.id,
        row.tenantId,
        row.platform,
        row.tenantExternalId,
        row.userExternalId,
        row.scopes,
        row.accessToken,
        row.refreshToken,
        row.vaultKeyId,
        row.accessTokenExpiresAt,
        row.refreshTokenExpiresAt ?? null,
        row.nextRefreshAt,
      ],
    );
    const created = toRow(rows[0]);
    await this.events.record(m, connectionEvent('connection.created', created));
    return created;
  }

  /**
   * `reconnected`: replaces the tokens of an existing connection (import, re-sync).
   * Not fenced by version: a user completing OAuth is newer than anything in flight, and
   * the version bump makes any in-flight refresh's fenced write lose.
   */
  async reconnect(m: EntityManager, id: string, t: TokenWrite): Promise<ConnectionRow> {
    const rows = await queryRows(
      m,
      `UPDATE connections SET status = 'active', condition = NULL, scopes = $2, access_token = $3, refresh_token = $4,
         vault_key_id = $5, access_token_expires_at = $6, refresh_token_expires_at = $7, next_refresh_at = $8,
         last_error = NULL, failure_count = 0, incident_id = NULL, degraded_at = NULL, version = version + 1, lease_owner = NULL,
         lease_until = NULL, refresh_started_at = NULL, refresh_cutoff = false, updated_at = now()
       FROM (SELECT status AS was, degraded_at AS was_degraded FROM connections WHERE id = $1 FOR UPDATE) AS before
       WHERE id = $1 RETURNING ${COLUMNS}, before.was, before.was_degraded`,
      [id, t.scopes, t.accessToken, t.refreshToken, t.vaultKeyId, t.accessTokenExpiresAt, t.refreshTokenExpiresAt ?? null, t.nextRefreshAt],
    );
    const row = toRow(rows[0]);
    // healed: active again after broken (a re-sync, re-connect or import of a broken row).
    if (rows[0].was === 'needs_reauth' || rows[0].was === 'blocked') await this.events.record(m, connectionEvent('connection.healed', row));
    // created: a revoked connection given a new grant is a new connection to a relay (same id).
    if (rows[0].was === 'revoked') await this.events.record(m, connectionEvent('connection.created', row));
    // recovered: a degraded row (an outage past expiry) given fresh tokens by the user.
    const since = rows[0].was_degraded as Date | null;
    if (since) await this.events.record(m, connectionEvent('connection.recovered', row, { degradedAt: since.toISOString() }));
    return row;
  }

  /**
   * `refreshed`: commits refresh results, each fenced on its own: only the lease holder,
   * only over the version it read. One statement for many rows (see RefreshCommits); rows
   * lock in id order, the same in every such statement. Returns the rows written; a missing
   * one lost its fence.
   */
  async commitRefreshes(owner: string, commits: readonly RefreshCommit[]): Promise<ConnectionRow[]> {
    if (!commits.some((c) => c.degradedAt)) return this.writeRefreshes(this.db, owner, commits);
    // Some end an outage: their connection.recovered goes in the same transaction (rare: no cost in a sweep).
    return this.db.transaction(async (m) => {
      const rows = await this.writeRefreshes(m, owner, commits);
      const since = new Map(commits.map((c) => [c.id, c.degradedAt]));
      const recovered = rows.flatMap((r) => {
        const at = since.get(r.id);
        return at ? [connectionEvent('connection.recovered', r, { degradedAt: at.toISOString() })] : [];
      });
      await this.events.record(m, ...recovered);
      return rows;
    });
  }

  private async writeRefreshes(m: Db, owner: string, commits: readonly RefreshCommit[]): Promise<ConnectionRow[]> {
    const c = [...commits].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows = await queryRows(
      m,
      `UPDATE connections SET status = 'active', condition = NULL, access_token = u_access, refresh_token = u_refresh, vault_key_id = u_key,
         access_token_expires_at = u_access_expires, refresh_token_expires_at = COALESCE(u_refresh_expires, refresh_token_expires_at),
         scopes = ARRAY(SELECT jsonb_array_elements_text(u_scopes)), next_refresh_at = u_next, last_refresh_at = now(), last_error = NULL,
         failure_count = 0, degraded_at = NULL, version = version + 1, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL,
         refresh_cutoff = false, updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::timestamptz[])
         AS u (u_id, u_version, u_access, u_refresh, u_key, u_access_expires, u_refresh_expires, u_scopes, u_next)
       WHERE id = u_id AND lease_owner = $1 AND version = u_version RETURNING ${COLUMNS}`,
      [
        owner,
        c.map((x) => x.id),
        c.map((x) => x.version),
        c.map((x) => x.write.accessToken),
        c.map((x) => x.write.refreshToken),
        c.map((x) => x.write.vaultKeyId),
        c.map((x) => x.write.accessTokenExpiresAt),
        c.map((x) => x.write.refreshTokenExpiresAt ?? null),
        c.map((x) => JSON.stringify(x.write.scopes)),
        c.map((x) => x.write.nextRefreshAt),
      ],
    );
    return rows.map(toRow);
  }

  /**
   * A transient (or client) failure: status and tokens kept, the error noted, retried at
   * `nextRefreshAt`; fenced on the lease. A transient failure once the access token has expired
   * begins an outage (`degraded_at`, SPEC §11): its `connection.degraded` is written with it, once,
   * since a row already degraded keeps its time. The version is not bumped (no token changed).
   * `mayDegrade`: the lease holder saw a transient failure, an expired token and no outage yet
   * (only it moves `degraded_at`); PostgreSQL's clock still decides the expiry.
   */
  async recordTransient(owner: string, id: string, error: LastError, nextRefreshAt: Date, mayDegrade: boolean): Promise<ConnectionRow | undefined> {
    const write = (m: Db, degrade: boolean) =>
      queryRows(
        m,
        `UPDATE connections SET last_error = $3, failure_count = failure_count + 1, next_refresh_at = $4,
           degraded_at = COALESCE(degraded_at, CASE WHEN $5 AND access_token_expires_at <= now() THEN now() END),
           lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL, updated_at = now()
         FROM (SELECT degraded_at AS was_degraded FROM connections WHERE id = $1 FOR UPDATE) AS before
         WHERE id = $1 AND lease_owner = $2 RETURNING ${COLUMNS}, before.was_degraded`,
        [id, owner, error, nextRefreshAt, degrade],
      );
    // Most transient failures cannot start an outage (the token is still valid, or the row is
    // degraded already): one statement, no transaction.
    if (!mayDegrade) {
      const rows = await write(this.db, false);
      return rows[0] ? toRow(rows[0]) : undefined;
    }
    return this.db.transaction(async (m) => {
      const rows = await write(m, true);
      if (!rows[0]) return undefined;
      const row = toRow(rows[0]);
      if (row.degradedAt && !rows[0].was_degraded) {
        const expiredAt = row.accessTokenExpiresAt?.toISOString() ?? null;
        await this.events.record(m, connectionEvent('connection.degraded', row, { degradedAt: row.degradedAt.toISOString(), accessTokenExpiresAt: expiredAt }));
      }
      return row;
    });
  }

  /**
   * `broken`: permanent failures on the versions the refresher read; the connections need
   * healing. Many rows in one statement (the refresher's group commit of failures), each
   * fenced on its own like a refresh commit: only the lease holder, only over the version it
   * read. Rows lock in id order. Answers the rows written; a missing one lost its fence.
   */
  async markBrokenMany(owner: string, marks: readonly BrokenMark[]): Promise<ConnectionRow[]> {
    const b = [...marks].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const rows = await queryRows(
      this.db,
      `UPDATE connections SET status = u_status, condition = u_condition, last_error = u_error, next_refresh_at = NULL, degraded_at = NULL, version = version + 1,
         lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL, refresh_cutoff = false, updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[]) AS u (u_id, u_version, u_status, u_condition, u_error)
       WHERE id = u_id AND lease_owner = $1 AND version = u_version RETURNING ${COLUMNS}`,
      [owner, b.map((x) => x.id), b.map((x) => x.version), b.map((x) => x.status), b.map((x) => x.error.condition ?? null), b.map((x) => JSON.stringify(x.error))],
    );
    return rows.map(toRow);
  }

  /** `drifted`: scope drift found on the version just written: blocked, `consent_required`. */
  async markDrift(id: string, version: number, error: LastError): Promise<ConnectionRow | undefined> {
    const rows = await queryRows(
      this.db,
      `UPDATE connections SET status = 'blocked', condition = 'consent_required', last_error = $3, next_refresh_at = NULL,
         version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $2 AND status = 'active' RETURNING ${COLUMNS}`,
      [id, version, error],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** `revoked`: crypto-shreds the tokens and marks the connection revoked, in one statement. */
  async revoke(id: string, scope: TenantScope): Promise<ConnectionRow | undefined> {
    return this.db.transaction(async (m) => {
      const params: unknown[] = [id];
      const rows = await queryRows(
        m,
        `UPDATE connections SET status = 'revoked', access_token = NULL, refresh_token = NULL, vault_key_id = NULL,
         next_refresh_at = NULL, degraded_at = NULL, lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL,
         version = version + 1, updated_at = now()
       WHERE id = $1 AND status <> 'revoked'${scopeClause(scope, params)} RETURNING ${COLUMNS}`,
        params,
      );
      if (!rows[0]) return undefined;
      const revoked = toRow(rows[0]);
      await this.events.record(m, connectionEvent('connection.revoked', revoked));
      return revoked;
    });
  }

  /**
   * Broken connections join their incidents (status unchanged). One statement with the
   * incidents' membership rows, in the transaction that locked the connections and found or
   * opened the incidents: a storm of thousands joining goes by the dozen (heal's IncidentJoins).
   */
  async attachIncidents(m: EntityManager, joins: readonly { incidentId: string; connectionId: string }[]): Promise<void> {
    if (joins.length === 0) return;
    await queryRows(
      m,
      `WITH j AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS j(incident_id, connection_id)),
         attached AS (UPDATE connections SET incident_id = j.incident_id FROM j WHERE id = j.connection_id)
       INSERT INTO incident_connections (incident_id, connection_id) SELECT incident_id, connection_id FROM j ON CONFLICT DO NOTHING`,
      [joins.map((j) => j.incidentId), joins.map((j) => j.connectionId)],
    );
  }

  /**
   * `released`: after an admin incident resolves, every connection it blocked is active and
   * due now. Its other rows (moved on meanwhile, e.g. to needs_reauth by a probe) keep their
   * status and condition but leave the incident too. In the transaction that resolved it.
   */
  async releaseBlocked(m: EntityManager, incidentId: string): Promise<number> {
    const rows = await queryRows(
      m,
      `WITH before AS (SELECT id AS before_id, status AS was FROM connections WHERE incident_id = $1 FOR UPDATE)
       UPDATE connections SET status = CASE WHEN status = 'blocked' THEN 'active' ELSE status END,
         condition = CASE WHEN status = 'blocked' THEN NULL ELSE condition END,
         next_refresh_at = CASE WHEN status = 'blocked' THEN now() ELSE next_refresh_at END,
         last_error = NULL, failure_count = 0, incident_id = NULL, version = version + 1, updated_at = now()
       FROM before WHERE id = before_id AND incident_id = $1 RETURNING ${COLUMNS}, before.was`,
      [incidentId],
    );
    // Healed: the blocked rows, and the probed one a refresh made active already (commitRefreshes
    // leaves its incident to this release; a reconnect or a new break clears or keeps it out).
    const healed = rows.filter((r) => r.was === 'blocked' || r.was === 'active').map((r) => connectionEvent('connection.healed', toRow(r)));
    await this.events.record(m, ...healed);
    return rows.length;
  }
}
