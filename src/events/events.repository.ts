import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantScope } from '../connections/connection.types';
import { queryRows } from '../database/sql';
import type { EventType } from './event-types';

export interface EventRow {
  id: string;
  type: EventType;
  tenantId: string | null;
  connectionId: string | null;
  sequence: number;
  data: Record<string, unknown>;
  createdAt: Date;
  /** `created_at` as PostgreSQL prints it (microseconds kept): the exact paging key. */
  at: string;
}

export interface EventFilter {
  since?: Date;
  type?: EventType;
  tenantId?: string;
  /** The (created_at, id) of the last event of the previous page. */
  after?: { at: string; id: string };
  limit: number;
}

const EVENT = `id, type, tenant_id AS "tenantId", connection_id AS "connectionId", sequence::float8 AS sequence, data,
  created_at AS "createdAt", created_at::text AS at`;

/** Reads and prunes the event log; EventLog writes it. */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: DataSource) {}

  /** Oldest first, by (created_at, id), inside the scope; client.* events (no tenant) only for unscoped keys. */
  async list(f: EventFilter, scope: TenantScope): Promise<EventRow[]> {
    const params: unknown[] = [];
    const where: string[] = [`type <> 'ping'`]; // a ping (POST …/test) is for its endpoint, not the log
    const add = (clause: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (scope !== 'all') add((n) => `tenant_id = ANY(${n}::uuid[])`, scope);
    if (f.tenantId) add((n) => `tenant_id = ${n}::uuid`, f.tenantId);
    if (f.type) add((n) => `type = ${n}`, f.type);
    if (f.since) add((n) => `created_at >= ${n}`, f.since);
    if (f.after) {
      params.push(f.after.at, f.after.id);
      where.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(f.limit);
    return queryRows<EventRow>(this.db, `SELECT ${EVENT} FROM events WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $${params.length}`, params);
  }

  /** Deletes up to `batch` events older than `before`, oldest first through the created_at index. */
  async prune(before: Date, batch: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id`,
      [before, batch],
    );
    return rows.length;
  }
}
