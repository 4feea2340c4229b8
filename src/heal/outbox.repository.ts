import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { DataSource, EntityManager } from 'typeorm';
import { EventLog } from '../events/event-log';
import type { NewEvent } from '../events/event-types';
import type { Platform } from '../config/app-config';
import type { PromptKind } from './incidents.repository';

export interface OutboxItem {
  id: string;
  incidentId: string;
  tenantId: string;
  platform: Platform;
  kind: PromptKind;
  recipient: string;
  recipientEmail: string | null;
  attempts: number;
  dedupeKey: string;
}

/**
 * The prompt outbox. A prompt is claimed with a lease (committed before the send), marked
 * sent after; so a restart doubles a prompt only when the process died between the send
 * and that mark.
 */
@Injectable()
export class OutboxRepository {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventLog,
  ) {}

  async claim(owner: string, limit: number, leaseMs: number): Promise<OutboxItem[]> {
    return queryRows(
      this.db,
      `UPDATE prompts p SET lease_owner = $1, lease_until = now() + $3 * interval '1 millisecond', attempts = p.attempts + 1
       FROM (SELECT id AS due_id FROM prompts
              WHERE status = 'queued' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
              ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
       WHERE p.id = due.due_id
       RETURNING p.id, p.incident_id AS "incidentId", p.tenant_id AS "tenantId", p.platform, p.kind, p.recipient,
         p.recipient_email AS "recipientEmail", p.attempts, p.dedupe_key AS "dedupeKey"`,
      [owner, limit, leaseMs],
    );
  }

  async sent(id: string, owner: string): Promise<void> {
    await queryRows(this.db, `UPDATE prompts SET status = 'sent', sent_at = now(), lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE id = $1 AND lease_owner = $2`, [
      id,
      owner,
    ]);
  }

  async retry(id: string, owner: string, error: string, at: Date): Promise<void> {
    await queryRows(this.db, `UPDATE prompts SET next_attempt_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [
      id,
      owner,
      at,
      error.slice(0, 500),
    ]);
  }

  /**
   * Failed for good. `told` is the event saying so (SPEC §11 `prompt.failed`), written in the
   * same transaction, only by the lease holder's write: once per prompt.
   */
  async failed(id: string, owner: string, error: string, told?: NewEvent): Promise<void> {
    const mark = (m: DataSource | EntityManager) =>
      queryRows(m, `UPDATE prompts SET status = 'failed', last_error = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 RETURNING id`, [
        id,
        owner,
        error.slice(0, 500),
      ]);
    if (!told) return void (await mark(this.db));
    await this.db.transaction(async (m) => {
      if ((await mark(m)).length > 0) await this.events.record(m, told);
    });
  }

  /** Who holds leases on queued prompts, for `deadLocalOwners` to pick this host's crashed processes from. */
  async leaseOwners(): Promise<string[]> {
    const rows: { owner: string }[] = await queryRows(this.db, `SELECT DISTINCT lease_owner AS owner FROM prompts WHERE status = 'queued' AND lease_owner IS NOT NULL`);
    return rows.map((r) => r.owner);
  }

  /** Takes back the leases of those owners (crashed processes) on queued prompts. */
  async releaseLeases(owners: string[]): Promise<void> {
    if (owners.length) await queryRows(this.db, `UPDATE prompts SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ANY($1) AND status = 'queued'`, [owners]);
  }
}
