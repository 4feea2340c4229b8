import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../config/app-config';
import type { Audience, Condition } from '../platforms/conditions';
import type { TenantScope } from '../connections/connection.types';

export interface IncidentRow {
  id: string;
  tenantId: string;
  platform: Platform;
  condition: Condition;
  audience: Audience;
  connectionId: string | null;
  status: 'open' | 'resolved';
  detectedAt: Date;
  openedAt: Date;
  resolvedAt: Date | null;
  remindersSent: number;
  nextReminderAt: Date | null;
  probeAttempts: number;
  nextProbeAt: Date | null;
}

export interface PromptRow {
  id: string;
  incidentId: string;
  tenantId: string;
  platform: Platform;
  kind: PromptKind;
  recipient: string;
  recipientEmail: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  sentAt: Date | null;
  createdAt: Date;
}

export type PromptKind = 'initial' | 'reminder' | 'confirmation';

/** What opening an incident needs of a broken connection. */
export interface BrokenConnection {
  id: string;
  tenantId: string;
  platform: Platform;
  condition: Condition;
  tenantExternalId: string;
  userExternalId: string;
  detectedAt: Date | null;
}

const INCIDENT = `id, tenant_id AS "tenantId", platform, condition, audience, connection_id AS "connectionId", status,
  detected_at AS "detectedAt", opened_at AS "openedAt", resolved_at AS "resolvedAt", reminders_sent AS "remindersSent",
  next_reminder_at AS "nextReminderAt", probe_attempts AS "probeAttempts", next_probe_at AS "nextProbeAt"`;
const PROMPT = `id, incident_id AS "incidentId", tenant_id AS "tenantId", platform, kind, recipient, recipient_email AS "recipientEmail",
  status, attempts, sent_at AS "sentAt", created_at AS "createdAt"`;

export interface NewPrompt {
  incidentId: string;
  tenantId: string;
  platform: Platform;
  kind: PromptKind;
  recipient: string;
  recipientEmail?: string;
  /** One prompt per incident, person and kind (reminders carry their number). */
  dedupeKey: string;
}

/** The SQL of incidents and the prompt outbox. Connections are only read here: ConnectionState writes them. */
@Injectable()
export class IncidentsRepository {
  constructor(readonly db: DataSource) {}

  /** Locks those of the connections that are broken and in no incident yet (in id order, as every multi-row lock of connections). */
  async lockBroken(m: EntityManager, connectionIds: readonly string[]): Promise<BrokenConnection[]> {
    return queryRows<BrokenConnection>(
      m,
      `SELECT id, tenant_id AS "tenantId", platform, condition, tenant_external_id AS "tenantExternalId", user_external_id AS "userExternalId",
              (last_error->>'at')::timestamptz AS "detectedAt"
         FROM connections
        WHERE id = ANY($1::uuid[]) AND status IN ('needs_reauth', 'blocked') AND condition IS NOT NULL AND incident_id IS NULL
        ORDER BY id FOR UPDATE`,
      [connectionIds],
    );
  }

  /**
   * The open incident for this case, opened now if there is none. The partial unique
   * indexes make a second open incident impossible, whatever runs concurrently.
   */
  async openOrJoin(
    m: EntityManager,
    i: {
      tenantId: string;
      platform: Platform;
      condition: Condition;
      audience: Audience;
      connectionId: string | null;
      detectedAt: Date;
      nextReminderAt: Date | null;
      nextProbeAt: Date | null;
    },
  ): Promise<{ incident: IncidentRow; opened: boolean }> {
    const existing = await this.findOpen(m, i);
    if (existing) return { incident: existing, opened: false };
    const conflict =
      i.audience === 'admin' ? `(tenant_id, condition) WHERE status = 'open' AND audience = 'admin'` : `(connection_id, condition) WHERE status = 'open' AND audience = 'user'`;
    const inserted = await queryRows<IncidentRow>(
      m,
      `INSERT INTO incidents (tenant_id, platform, condition, audience, connection_id, detected_at, next_reminder_at, next_probe_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ${conflict} DO NOTHING RETURNING ${INCIDENT}`,
      [i.tenantId, i.platform, i.condition, i.audience, i.connectionId, i.detectedAt, i.nextReminderAt, i.nextProbeAt],
    );
    if (inserted[0]) return { incident: inserted[0], opened: true };
    // Another transaction opened it between our look-up and our insert.
    const raced = await this.findOpen(m, i);
    if (!raced) throw new Error(`no open ${i.condition} incident after a conflicting insert`);
    return { incident: raced, opened: false };
  }

  private async findOpen(m: EntityManager, i: { tenantId: string; condition: Condition; audience: Audience; connectionId: string | null }): Promise<IncidentRow | undefined> {
    const found =
      i.audience === 'admin'
        ? await queryRows<IncidentRow>(m, `SELECT ${INCIDENT} FROM incidents WHERE tenant_id = $1 AND condition = $2 AND audience = 'admin' AND status = 'open'`, [
            i.tenantId,
            i.condition,
          ])
        : await queryRows<IncidentRow>(m, `SELECT ${INCIDENT} FROM incidents WHERE connection_id = $1 AND condition = $2 AND audience = 'user' AND status = 'open'`, [
            i.connectionId,
            i.condition,
          ]);
    return found[0];
  }

  async enqueue(m: EntityManager | DataSource, prompts: NewPrompt[]): Promise<number> {
    if (prompts.length === 0) return 0;
    const rows = await queryRows(
      m,
      `INSERT INTO prompts (incident_id, tenant_id, platform, kind, recipient, recipient_email, dedupe_key)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [
        prompts.map((p) => p.incidentId),
        prompts.map((p) => p.tenantId),
        prompts.map((p) => p.platform),
        prompts.map((p) => p.kind),
        prompts.map((p) => p.recipient),
        prompts.map((p) => p.recipientEmail ?? null),
        prompts.map((p) => p.dedupeKey),
      ],
    );
    return rows.length;
  }

  async find(id: string, scope: TenantScope): Promise<IncidentRow | undefined> {
    const params: unknown[] = [id];
    const scoped = scope === 'all' ? '' : (params.push(scope), ` AND tenant_id = ANY($2::uuid[])`);
    const rows = await queryRows<IncidentRow>(this.db, `SELECT ${INCIDENT} FROM incidents WHERE id = $1${scoped}`, params);
    return rows[0];
  }

  async list(filter: { tenantId?: string; status?: string; afterId?: string; limit: number }, scope: TenantScope): Promise<IncidentRow[]> {
    const params: unknown[] = [];
    const where = ['true'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.tenantId) add('tenant_id = ?', filter.tenantId);
    if (filter.status) add('status = ?', filter.status);
    if (filter.afterId) add('id > ?', filter.afterId);
    if (scope !== 'all') add('tenant_id = ANY(?::uuid[])', scope);
    params.push(filter.limit);
    return queryRows<IncidentRow>(this.db, `SELECT ${INCIDENT} FROM incidents WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`, params);
  }

  async prompts(incidentIds: string[]): Promise<PromptRow[]> {
    if (incidentIds.length === 0) return [];
    return queryRows(this.db, `SELECT ${PROMPT} FROM prompts WHERE incident_id = ANY($1::uuid[]) ORDER BY created_at, recipient`, [incidentIds]);
  }

  async connectionIds(incidentIds: string[]): Promise<{ incidentId: string; connectionId: string }[]> {
    if (incidentIds.length === 0) return [];
    return queryRows(this.db, `SELECT incident_id AS "incidentId", connection_id AS "connectionId" FROM incident_connections WHERE incident_id = ANY($1::uuid[])`, [incidentIds]);
  }

  /** Resolves an open incident; true only for the one caller that resolved it. */
  async resolve(m: EntityManager | DataSource, id: string): Promise<IncidentRow | undefined> {
    const rows = await queryRows<IncidentRow>(
      m,
      `UPDATE incidents SET status = 'resolved', resolved_at = now(), next_reminder_at = NULL, next_probe_at = NULL WHERE id = $1 AND status = 'open' RETURNING ${INCIDENT}`,
      [id],
    );
    return rows[0];
  }

  async openUserIncidentsOf(connectionId: string): Promise<IncidentRow[]> {
    return queryRows<IncidentRow>(this.db, `SELECT ${INCIDENT} FROM incidents WHERE connection_id = $1 AND audience = 'user' AND status = 'open'`, [connectionId]);
  }

  /** Incidents whose next reminder is due (a plain read: `advanceReminder` claims each one). */
  async dueReminders(limit: number): Promise<IncidentRow[]> {
    return queryRows<IncidentRow>(this.db, `SELECT ${INCIDENT} FROM incidents WHERE status = 'open' AND next_reminder_at <= now() ORDER BY next_reminder_at LIMIT $1`, [limit]);
  }

  /** Claims a due reminder by moving its schedule on; false when another replica took it. */
  async advanceReminder(id: string, remindersSent: number, next: Date | null): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `UPDATE incidents SET reminders_sent = $2 + 1, next_reminder_at = $3 WHERE id = $1 AND reminders_sent = $2 AND status = 'open' RETURNING id`,
      [id, remindersSent, next],
    );
    return rows.length === 1;
  }

  async dueProbes(limit: number): Promise<IncidentRow[]> {
    return queryRows<IncidentRow>(
      this.db,
      `SELECT ${INCIDENT} FROM incidents WHERE status = 'open' AND audience = 'admin' AND next_probe_at <= now() ORDER BY next_probe_at LIMIT $1`,
      [limit],
    );
  }

  /** Claims a due probe by moving its schedule on; false when another replica took it. */
  async advanceProbe(id: string, attempts: number, next: Date): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `UPDATE incidents SET probe_attempts = $2 + 1, next_probe_at = $3 WHERE id = $1 AND probe_attempts = $2 AND status = 'open' RETURNING id`,
      [id, attempts, next],
    );
    return rows.length === 1;
  }

  async blockedConnectionOf(incidentId: string): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(this.db, `SELECT id FROM connections WHERE incident_id = $1 AND status = 'blocked' ORDER BY updated_at LIMIT 1`, [incidentId]);
    return rows[0]?.id;
  }

  /** Broken connections with no incident yet (a crash between the mark and the incident). */
  async unhealed(limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `SELECT id FROM connections WHERE status IN ('needs_reauth', 'blocked') AND incident_id IS NULL ORDER BY updated_at LIMIT $1`,
      [limit],
    );
    return rows.map((r: { id: string }) => r.id);
  }
}
