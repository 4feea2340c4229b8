import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface AuditEvent {
  /** An API client id, or `refresher` (a refresh, from the sweep or a token read) or `oauth` (a connect or re-sync) for the service's own actions. */
  actor: string;
  connectionId?: string;
  tenantId?: string;
  action: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

/** An event as stored; `id` orders events and pages the trail. */
export interface StoredAuditEvent {
  id: string;
  at: Date;
  actor: string;
  action: string;
  outcome: string;
  detail: Record<string, unknown> | null;
}

const FLUSH_MS = 200;
const BATCH = 2_000;
/** Under a long database outage the oldest events are dropped (and counted) rather than grow memory. */
const MAX_BUFFER = 100_000;

/**
 * Who read or refreshed which connection, when, with what outcome (never a token).
 * Recording is a push onto an in-memory buffer; a timer writes batches with one INSERT,
 * so the token call's latency carries no database write. A batch travels as one JSON
 * parameter (`JSON.stringify` is native; pg's array encoding in JavaScript held the event
 * loop for milliseconds at a few thousand events), and a short interval keeps batches small.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly log = new Logger('AuditLog');
  private buffer: (AuditEvent & { at: number })[] = [];
  private dropped = 0;
  private flushing?: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly db: DataSource) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Buffers an event; the object is kept as given (it gets its `at`), so pass a fresh one. */
  record(event: AuditEvent): void {
    if (this.buffer.length >= MAX_BUFFER) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(Object.assign(event, { at: Date.now() }));
  }

  /** Writes what is buffered; concurrent calls share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, BATCH);
      try {
        await this.db.query(
          `INSERT INTO audit_events (at, actor, connection_id, tenant_id, action, outcome, detail)
           SELECT to_timestamp(e.at / 1000.0), e.actor, e."connectionId", e."tenantId", e.action, e.outcome, e.detail
             FROM jsonb_to_recordset($1::jsonb) AS e(at double precision, actor text, "connectionId" uuid, "tenantId" uuid, action text, outcome text, detail jsonb)`,
          [JSON.stringify(batch)],
        );
        this.buffer.splice(0, batch.length);
      } catch (error) {
        this.log.warn(`audit write failed (${(error as Error).message}); ${this.buffer.length} events kept for the next attempt`);
        return;
      }
    }
    if (this.dropped > 0) {
      this.log.error(`${this.dropped} audit events were dropped during a database outage`);
      this.dropped = 0;
    }
  }

  /** A connection's events, newest first, after the event id `beforeId` (keyset paging). */
  async read(connectionId: string, limit: number, beforeId?: string): Promise<StoredAuditEvent[]> {
    await this.flush();
    return this.db.query(
      `SELECT id::text, at, actor, action, outcome, detail FROM audit_events
        WHERE connection_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY audit_events.id DESC LIMIT $3`,
      [connectionId, beforeId ?? null, limit],
    );
  }
}
