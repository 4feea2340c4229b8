import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { DeliveryHandoff } from './delivery-handoff';
import type { NewEvent } from './event-types';

/** `evt_` and 16 random bytes, base64url: unique without coordination. */
export const newEventId = () => `evt_${randomBytes(16).toString('base64url')}`;

/**
 * Records events of SPEC §11, always in the caller's transaction (an EntityManager): the
 * event commits with the change it tells, or not at all. A crash never loses one nor records
 * one for a change that rolled back. The same statement queues a delivery for every enabled
 * webhook endpoint subscribed to the event's type and tenant (the outbox), leased to this
 * process's delivery worker, which gets them through the hand-off once they commit.
 */
@Injectable()
export class EventLog {
  constructor(private readonly handoff: DeliveryHandoff) {}

  async record(m: EntityManager, ...events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const lease = this.handoff.lease();
    const leaseEndsAt = Date.now() + (lease?.leaseMs ?? 0);
    const ids = events.map(() => newEventId());
    const queued = await queryRows<{ endpointId: string; url: string; endpointVersion: string; id: string; sequence: number; createdAt: Date }>(
      m,
      `WITH recorded AS (
         INSERT INTO events (id, type, tenant_id, connection_id, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::jsonb[])
         RETURNING id, type, tenant_id, sequence, created_at
       ), queued AS (
         INSERT INTO webhook_deliveries (endpoint_id, event_id, lease_owner, next_attempt_at)
         SELECT ep.id, r.id, $6, clock_timestamp() + COALESCE($7, 0) * interval '1 millisecond' FROM recorded r
         JOIN webhook_endpoints ep ON NOT ep.disabled
          AND (ep.events = '{*}' OR r.type = ANY(ep.events))
          AND (ep.tenant_ids IS NULL OR r.tenant_id = ANY(ep.tenant_ids))
         RETURNING endpoint_id, event_id
       )
       SELECT q.endpoint_id AS "endpointId", ep.url, ep.updated_at::text AS "endpointVersion", r.id, r.sequence::float8 AS sequence, r.created_at AS "createdAt"
         FROM queued q JOIN recorded r ON r.id = q.event_id JOIN webhook_endpoints ep ON ep.id = q.endpoint_id`,
      [
        ids,
        events.map((e) => e.type),
        events.map((e) => e.tenantId),
        events.map((e) => e.connectionId ?? null),
        events.map((e) => JSON.stringify(e.data)),
        lease?.owner ?? null,
        lease?.leaseMs ?? null,
      ],
    );
    if (!lease || queued.length === 0) return;
    const byId = new Map(ids.map((id, i) => [id, events[i]]));
    this.handoff.queued(
      m,
      queued.map((q) => {
        const e = byId.get(q.id) as NewEvent;
        return {
          endpointId: q.endpointId,
          url: q.url,
          endpointVersion: q.endpointVersion,
          event: { id: q.id, type: e.type, tenantId: e.tenantId, connectionId: e.connectionId ?? null, sequence: q.sequence, data: { ...e.data }, createdAt: q.createdAt },
          leaseEndsAt,
        };
      }),
    );
  }
}
