import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { NewEvent } from './event-types';

/** `evt_` and 16 random bytes, base64url: unique without coordination. */
export const newEventId = () => `evt_${randomBytes(16).toString('base64url')}`;

/**
 * Records events of SPEC §11, always in the caller's transaction (an EntityManager): the
 * event commits with the change it tells, or not at all. A crash never loses one nor records one for a change that rolled back.
 */
@Injectable()
export class EventLog {
  async record(m: EntityManager, ...events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await queryRows(
      m,
      `INSERT INTO events (id, type, tenant_id, connection_id, data)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::jsonb[])`,
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
