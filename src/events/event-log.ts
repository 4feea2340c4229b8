import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { NewEvent } from './event-types';

/** `evt_` and 16 random bytes, base64url: unique without coordination. */
export const newEventId = () => `evt_${randomBytes(16).toString('base64url')}`;

/**
 * Records events of SPEC §11, always in the caller's transaction (an EntityManager): the
 * event commits with the change it tells, or not at all. A crash never loses one nor records
 * one for a change that rolled back. The same statement queues a delivery for every enabled
 * webhook endpoint subscribed to the event's type and tenant (the outbox the delivery worker
 * reads), so a committed event is always delivered and an uncommitted one never is.
 */
@Injectable()
export class EventLog {
  async record(m: EntityManager, ...events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await queryRows(
      m,
      `WITH recorded AS (
         INSERT INTO events (id, type, tenant_id, connection_id, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::jsonb[])
         RETURNING id, type, tenant_id
       )
       INSERT INTO webhook_deliveries (endpoint_id, event_id)
       SELECT ep.id, r.id FROM recorded r
       JOIN webhook_endpoints ep ON NOT ep.disabled
        AND (ep.events = '{*}' OR r.type = ANY(ep.events))
        AND (ep.tenant_ids IS NULL OR r.tenant_id = ANY(ep.tenant_ids))`,
      [
        events.map(() => newEventId()),
        events.map((e) => e.type),
        events.map((e) => e.tenantId),
        events.map((e) => e.connectionId ?? null),
        events.map((e) => JSON.stringify(e.data)),
      ],
    );
  }
}
