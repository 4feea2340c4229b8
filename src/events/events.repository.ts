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
}

/** An event as the log is paged: with the top-level id of the transaction that wrote it (xid8, in decimal). */
export interface PagedEventRow extends EventRow {
  xid: string;
}

export interface EventFilter {
  since?: Date;
  type?: EventType;
  tenantId?: string;
  /** The (xid, id) of the last event of the previous page. */
  after?: { xid: string; id: string };
  limit: number;
}

const EVENT = `id, type, tenant_id AS "tenantId", connection_id AS "connectionId", sequence::float8 AS sequence, data,
  created_at AS "createdAt", xid::text AS xid`;

/** Reads and prunes the event log; EventLog writes it. */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * By (xid, id) inside the scope; client.* events (no tenant) only for unscoped keys. Only
   * events below this statement's snapshot xmin: every transaction there has finished and every
   * one still running or yet to write has an xid ≥ xmin, so no event can later commit behind a
   * cursor. A long writing transaction (any in the cluster) holds back what follows it.
   */
  async list(f: EventFilter, scope: TenantScope): Promise<PagedEventRow[]> {
    const params: unknown[] = [];
    const where: string[] = [
      `type <> 'ping'`, // a ping (POST …/test) is for its endpoint, not the log
      `xid < pg_snapshot_xmin(pg_current_snapshot())`,
    ];
    const add = (clause: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (scope !== 'all') add((n) => `tenant_id = ANY(${n}::uuid[])`, scope);
    if (f.tenantId) add((n) => `tenant_id = ${n}::uuid`, f.tenantId);
    if (f.type) add((n) => `type = ${n}`, f.type);
    if (f.since) add((n) => `created_at >= ${n}`, f.since);
    if (f.after) {
      params.push(f.after.xid, f.after.id);
      where.push(`(xid, id) > ($${params.length - 1}::xid8, $${params.length})`);
    }
    params.push(f.limit);
    // events.xid, not xid: a bare name would sort by the text output column ('10' < '9').
    return queryRows<PagedEventRow>(this.db, `SELECT ${EVENT} FROM events WHERE ${where.join(' AND ')} ORDER BY events.xid, events.id LIMIT $${params.length}`, params);
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
