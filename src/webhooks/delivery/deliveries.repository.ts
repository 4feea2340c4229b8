import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Queryable, queryRows } from '../../database/sql';
import type { ClaimedDelivery } from '../../events/delivery-handoff';
import type { EventRow } from '../../events/events.repository';

/** The outcome of one attempt, as the worker hands it back. */
export interface AttemptResult {
  endpointId: string;
  eventId: string;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** Seconds asked for by Retry-After (≤ 1 h), instead of the schedule's next delay. */
  retryAfterSeconds: number | null;
}

export interface Settled {
  endpointId: string;
  eventId: string;
  status: 'pending' | 'delivered' | 'failed';
  /** Seconds from the event to this delivery, for the lag histogram. */
  lagSeconds: number;
}

export interface DisabledEndpoint {
  id: string;
  tenantIds: string[] | null;
  failingSince: Date;
}

export interface DeliveryRow {
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  /** created_at as PostgreSQL prints it, for the cursor. */
  at: string;
}

/** The webhook outbox (migration 1764000000014): claims with a lease, settles attempts in batches. */
@Injectable()
export class DeliveriesRepository {
  constructor(readonly db: DataSource) {}

  /**
   * Claims due deliveries, at most `room[endpoint]` per endpoint (its free concurrency) and
   * `defaultRoom` for endpoints not listed: each endpoint is read through its own index range,
   * so a backlog at one endpoint never hides another's due rows. Leased to `owner` for `leaseMs`.
   */
  async claim(owner: string, leaseMs: number, defaultRoom: number, room: ReadonlyMap<string, number>): Promise<ClaimedDelivery[]> {
    const leaseEndsAt = Date.now() + leaseMs;
    const rows = await queryRows<ClaimedDelivery & { event: never } & Record<string, unknown>>(
      this.db,
      `WITH room AS (
         SELECT ep.id, ep.url, ep.updated_at, COALESCE(r.room, $3) AS room
           FROM webhook_endpoints ep LEFT JOIN unnest($4::uuid[], $5::int[]) AS r(id, room) ON r.id = ep.id
          WHERE NOT ep.disabled
       ), due AS (
         SELECT room.id AS endpoint_id, room.url, room.updated_at, d.event_id
           FROM room CROSS JOIN LATERAL (
             SELECT event_id FROM webhook_deliveries
              WHERE endpoint_id = room.id AND status = 'pending' AND next_attempt_at <= now()
              ORDER BY next_attempt_at LIMIT room.room FOR UPDATE SKIP LOCKED) d
          WHERE room.room > 0
       )
       UPDATE webhook_deliveries w SET next_attempt_at = now() + $2 * interval '1 millisecond', lease_owner = $1
         FROM due JOIN events e ON e.id = due.event_id
        WHERE w.endpoint_id = due.endpoint_id AND w.event_id = due.event_id
       RETURNING w.endpoint_id AS "endpointId", due.url, due.updated_at::text AS "endpointVersion",
         e.id, e.type, e.tenant_id AS "tenantId", e.connection_id AS "connectionId", e.sequence::float8 AS sequence, e.data, e.created_at AS "createdAt"`,
      [owner, leaseMs, defaultRoom, [...room.keys()], [...room.values()]],
    );
    return rows.map((r) => ({
      leaseEndsAt,
      endpointId: r.endpointId,
      url: r.url,
      endpointVersion: r.endpointVersion,
      event: {
        id: r.id as string,
        type: r.type as EventRow['type'],
        tenantId: r.tenantId as string | null,
        connectionId: r.connectionId as string | null,
        sequence: r.sequence as number,
        data: r.data as Record<string, unknown>,
        createdAt: r.createdAt as Date,
      },
    }));
  }

  /**
   * Settles attempts in one statement: delivered; or pending again after the schedule's next
   * delay (`scheduleSeconds[attempts]`, or Retry-After); or failed once the schedule is spent.
   * Only the lease owner settles (a lease taken over after it expired is not overwritten).
   * Then the endpoints: a success clears `failing_since`, a failure starts it, and an endpoint
   * failing for `disableAfterMs` is disabled: those come back for the caller's event.
   */
  async settle(
    owner: string,
    results: readonly AttemptResult[],
    scheduleSeconds: readonly number[],
    disableAfterMs: number,
    onDisabled: (m: EntityManager, disabled: DisabledEndpoint[]) => Promise<void>,
  ): Promise<Settled[]> {
    const succeeded = [...new Set(results.filter((r) => r.ok).map((r) => r.endpointId))];
    const failing = [...new Set(results.filter((r) => !r.ok).map((r) => r.endpointId))].filter((id) => !succeeded.includes(id));
    const settle = (m: Queryable) =>
      queryRows<Settled>(
        m,
        `WITH r AS (
           SELECT * FROM unnest($2::uuid[], $3::text[], $4::bool[], $5::int[], $6::text[], $7::int[]) AS r(endpoint_id, event_id, ok, code, error, retry_after)
         ), settled AS (
           UPDATE webhook_deliveries d SET
             attempts = d.attempts + 1,
             last_attempt_at = now(),
             last_status_code = r.code,
             last_error = r.error,
             lease_owner = NULL,
             status = CASE WHEN r.ok THEN 'delivered' WHEN d.attempts >= cardinality($8::float8[]) THEN 'failed' ELSE 'pending' END,
             next_attempt_at = CASE WHEN r.ok OR d.attempts >= cardinality($8::float8[]) THEN NULL
               ELSE now() + COALESCE(r.retry_after::float8, ($8::float8[])[d.attempts + 1]) * interval '1 second' END
           FROM r
           WHERE d.endpoint_id = r.endpoint_id AND d.event_id = r.event_id AND d.status = 'pending' AND d.lease_owner = $1
           RETURNING d.endpoint_id, d.event_id, d.status
         ), cleared AS (
           UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY($9::uuid[]) AND failing_since IS NOT NULL
         )
         SELECT s.endpoint_id AS "endpointId", s.event_id AS "eventId", s.status, extract(epoch FROM now() - e.created_at)::float8 AS "lagSeconds"
           FROM settled s JOIN events e ON e.id = s.event_id`,
        [
          owner,
          results.map((r) => r.endpointId),
          results.map((r) => r.eventId),
          results.map((r) => r.ok),
          results.map((r) => r.statusCode),
          results.map((r) => r.error),
          results.map((r) => r.retryAfterSeconds),
          scheduleSeconds,
          succeeded,
        ],
      );
    // Every attempt succeeded (the common case): one statement. A failure may disable an endpoint, with its event: a transaction.
    if (failing.length === 0) return settle(this.db);
    return this.db.transaction(async (m) => {
      const settled = await settle(m);
      await m.query(`UPDATE webhook_endpoints SET failing_since = now() WHERE id = ANY($1) AND failing_since IS NULL`, [failing]);
      const disabled = await queryRows<DisabledEndpoint>(
        m,
        `UPDATE webhook_endpoints SET disabled = true, updated_at = now()
          WHERE id = ANY($1) AND NOT disabled AND failing_since <= now() - $2 * interval '1 millisecond'
          RETURNING id, tenant_ids AS "tenantIds", failing_since AS "failingSince"`,
        [failing, disableAfterMs],
      );
      if (disabled.length) await onDisabled(m, disabled);
      return settled;
    });
  }

  /** Attempts to one endpoint, newest first, paged by (created_at, event id). */
  async list(endpointId: string, f: { status?: string; before?: { at: string; eventId: string }; limit: number }): Promise<DeliveryRow[]> {
    const params: unknown[] = [endpointId, f.status ?? null, f.before?.at ?? null, f.before?.eventId ?? null, f.limit];
    return queryRows<DeliveryRow>(
      this.db,
      `SELECT d.event_id AS "eventId", e.type, d.status, d.attempts, d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
              d.last_attempt_at AS "lastAttemptAt", d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt", d.created_at::text AS at
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
          AND ($3::timestamptz IS NULL OR (d.created_at, d.event_id) < ($3::timestamptz, $4::text))
        ORDER BY d.created_at DESC, d.event_id DESC LIMIT $5`,
      params,
    );
  }

  /**
   * Queues again, as new, the events of [since, until) this endpoint subscribes to (type and
   * tenants as they are now); answers how many. A delivery in flight loses its lease and is sent again.
   */
  async replay(endpointId: string, since: Date, until: Date | null): Promise<number> {
    const rows = await queryRows(
      this.db,
      `INSERT INTO webhook_deliveries (endpoint_id, event_id)
       SELECT ep.id, e.id FROM webhook_endpoints ep
         JOIN events e ON (ep.events = '{*}' OR e.type = ANY(ep.events)) AND (ep.tenant_ids IS NULL OR e.tenant_id = ANY(ep.tenant_ids))
        WHERE ep.id = $1 AND e.created_at >= $2 AND ($3::timestamptz IS NULL OR e.created_at < $3) AND e.type <> 'ping'
       ON CONFLICT (endpoint_id, event_id) DO UPDATE
         SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = NULL, last_error = NULL, last_status_code = NULL
       RETURNING 1`,
      [endpointId, since, until],
    );
    return rows.length;
  }

  /** A `ping` event for this endpoint only (POST …/test): recorded, and queued to it alone. */
  async ping(endpointId: string, eventId: string, data: Record<string, string>): Promise<void> {
    await this.db.query(
      `WITH ev AS (INSERT INTO events (id, type, tenant_id, data) VALUES ($2, 'ping', NULL, $3) RETURNING id)
       INSERT INTO webhook_deliveries (endpoint_id, event_id) SELECT $1, id FROM ev`,
      [endpointId, eventId, JSON.stringify(data)],
    );
  }

  /** Hands back this owner's leases of these deliveries: due now, for any claim. */
  async release(owner: string, deliveries: readonly { endpointId: string; eventId: string }[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = now(), lease_owner = NULL
         FROM unnest($2::uuid[], $3::text[]) AS r(endpoint_id, event_id)
        WHERE d.endpoint_id = r.endpoint_id AND d.event_id = r.event_id AND d.status = 'pending' AND d.lease_owner = $1`,
      [owner, deliveries.map((d) => d.endpointId), deliveries.map((d) => d.eventId)],
    );
  }

  /** Leases of these owners (dead processes of this host) end now. */
  async releaseLeases(owners: readonly string[]): Promise<void> {
    if (owners.length)
      await this.db.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), lease_owner = NULL WHERE status = 'pending' AND lease_owner = ANY($1)`, [owners]);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await queryRows<{ owner: string }>(this.db, `SELECT DISTINCT lease_owner AS owner FROM webhook_deliveries WHERE status = 'pending' AND lease_owner IS NOT NULL`);
    return rows.map((r) => r.owner);
  }
}
