import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ConnectLinksRepository } from '../connections/connect/connect-links.repository';
import type { ConnectionListener } from '../connections/connection-events';
import { ConnectionState } from '../connections/connection-state';
import type { ConnectionRow } from '../connections/connection.types';
import { ConnectionsRepository } from '../connections/connections.repository';
import { incidentEvent } from '../events/event-data';
import { EventLog } from '../events/event-log';
import { AUDIENCE } from '../platforms/conditions';
import { TenantEntity } from '../tenants/tenant.entity';
import { HealMetrics } from './heal.metrics';
import { IncidentRow, IncidentsRepository, NewPrompt, PromptKind } from './incidents.repository';
import { OutboxDoorbell } from './outbox-doorbell';

const PROBE_CAP_MS = 6 * 3_600_000;

/**
 * Auto Heal's decisions: open (or join) the one incident of a broken connection and queue
 * its prompts in the same transaction; resolve incidents when a user re-syncs or an admin
 * incident's probe succeeds, and queue the confirmations.
 */
@Injectable()
export class HealService implements ConnectionListener {
  private readonly log = new Logger('Heal');

  constructor(
    private readonly incidents: IncidentsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly state: ConnectionState,
    private readonly links: ConnectLinksRepository,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly config: AppConfig,
    private readonly metrics: HealMetrics,
    /** Rung after prompts are queued, so the outbox delivers at once. */
    private readonly outbox: OutboxDoorbell,
    /** SPEC §11: incident and broken-connection events, in the transaction of the change. */
    private readonly events: EventLog,
  ) {}

  broken(row: ConnectionRow): Promise<string | undefined> {
    return this.openFor(row.id);
  }

  /**
   * Opens or joins the incident of one broken connection. Idempotent. In a storm every
   * connection of a tenant joins the same incident, so the common path is: lock the row,
   * find the open incident, attach: three statements. Answers the incident the connection
   * joined (undefined when it was not broken or already in one).
   */
  async openFor(connectionId: string): Promise<string | undefined> {
    let queued = 0;
    const joined = await this.incidents.db.transaction(async (m) => {
      const row = await this.incidents.lockBroken(m, connectionId);
      if (!row) return undefined;
      const audience = AUDIENCE[row.condition];
      const now = Date.now();
      const { incident, opened } = await this.incidents.openOrJoin(m, {
        tenantId: row.tenantId,
        platform: row.platform,
        condition: row.condition,
        audience,
        connectionId: audience === 'user' ? row.id : null,
        detectedAt: row.detectedAt ?? new Date(now),
        nextReminderAt: this.config.healReminderScheduleMs.length ? new Date(now + this.config.healReminderScheduleMs[0]) : null,
        nextProbeAt: audience === 'admin' ? new Date(now + this.config.healProbeIntervalMs) : null,
      });
      await this.state.attachIncident(m, incident.id, row.id);
      // Once per transition: lockBroken only answers a broken row that is in no incident yet.
      await this.events.record(m, ...(opened ? [incidentEvent('incident.opened', incident)] : []), {
        type: 'connection.broken',
        tenantId: row.tenantId,
        connectionId: row.id,
        data: {
          connectionId: row.id,
          platform: row.platform,
          userExternalId: row.userExternalId,
          status: audience === 'user' ? 'needs_reauth' : 'blocked',
          condition: row.condition,
          audience,
          incidentId: incident.id,
        },
      });
      if (!opened) return incident.id;
      this.metrics.opened.inc({ platform: row.platform, condition: row.condition, audience });
      const tenant = await m.getRepository(TenantEntity).findOne({ where: { id: row.tenantId } });
      queued = await this.incidents.enqueue(m, this.recipients(incident, tenant, row.userExternalId, 'initial'));
      return incident.id;
    });
    if (queued > 0) this.outbox.ring();
    return joined;
  }

  /** A user completed OAuth (or tokens were imported): their open user incidents resolve. */
  async connected(row: ConnectionRow, how: 'connect' | 'resync' | 'import'): Promise<void> {
    const open = await this.incidents.openUserIncidentsOf(row.id);
    let queued = 0;
    for (const incident of open) {
      const resolved = await this.resolve(incident.id);
      if (!resolved) continue;
      this.onResolved(resolved);
      await this.links.voidLinksOfIncident(incident.id);
      if (how === 'import') continue; // SPEC §5: an import resolves without prompts
      const tenant = await this.tenants.findOne({ where: { id: row.tenantId } });
      const admins = (tenant?.admins ?? []).map((a) => this.prompt(resolved, 'confirmation', a.userExternalId, a.email, 'admin-note'));
      queued += await this.incidents.enqueue(this.incidents.db, [this.prompt(resolved, 'confirmation', row.userExternalId), ...admins]);
    }
    if (queued > 0) this.outbox.ring();
  }

  /** A revoked connection's user incidents close quietly: no reminders, no live re-sync links. */
  async revoked(row: ConnectionRow): Promise<void> {
    for (const incident of await this.incidents.openUserIncidentsOf(row.id)) {
      const resolved = await this.resolve(incident.id);
      if (resolved) this.onResolved(resolved);
      await this.links.voidLinksOfIncident(incident.id);
    }
  }

  /** A probe refreshed a blocked connection: its admin incident resolves. */
  async recovered(row: ConnectionRow): Promise<void> {
    if (row.incidentId) await this.resolveAdmin(row.incidentId);
  }

  async resolveAdmin(incidentId: string): Promise<void> {
    const incident = await this.incidents.db.transaction(async (m) => {
      const resolved = await this.resolve(incidentId, m);
      if (!resolved) return undefined;
      const released = await this.state.releaseBlocked(m, incidentId);
      const tenant = await m.getRepository(TenantEntity).findOne({ where: { id: resolved.tenantId } });
      const prompts = (tenant?.admins ?? []).map((a) => this.prompt(resolved, 'confirmation', a.userExternalId, a.email));
      await this.incidents.enqueue(m, prompts);
      this.log.log(`admin incident ${incidentId} (${resolved.condition}) resolved; ${released} connections released for refresh`);
      return resolved;
    });
    if (incident) {
      this.onResolved(incident);
      this.outbox.ring();
    }
  }

  /** Queues due reminders (claimed by moving each incident's schedule on). */
  async remind(): Promise<void> {
    const schedule = this.config.healReminderScheduleMs;
    for (const incident of await this.incidents.dueReminders(200)) {
      const n = incident.remindersSent;
      const next = n + 1 < schedule.length ? new Date(incident.openedAt.getTime() + schedule[n + 1]) : null;
      if (!(await this.incidents.advanceReminder(incident.id, n, next))) continue;
      const tenant = await this.tenants.findOne({ where: { id: incident.tenantId } });
      const connection = incident.connectionId ? await this.connections.findById(incident.connectionId, 'all') : undefined;
      const prompts = this.recipients(incident, tenant, connection?.userExternalId, 'reminder', `reminder-${n + 1}`);
      if ((await this.incidents.enqueue(this.incidents.db, prompts)) > 0) this.outbox.ring();
    }
  }

  /** Re-probes due admin incidents: one affected connection each, with backoff to 6 h. */
  async probe(refresh: (connectionId: string) => Promise<ConnectionRow | undefined>): Promise<void> {
    for (const incident of await this.incidents.dueProbes(50)) {
      const delay = Math.min(PROBE_CAP_MS, this.config.healProbeIntervalMs * 2 ** (incident.probeAttempts + 1));
      if (!(await this.incidents.advanceProbe(incident.id, incident.probeAttempts, new Date(Date.now() + delay)))) continue;
      const connectionId = await this.incidents.blockedConnectionOf(incident.id);
      if (!connectionId) {
        await this.resolveAdmin(incident.id); // every affected user re-connected meanwhile
        continue;
      }
      // A refresh that works resolves the incident through `recovered()`, as any refresh of a blocked connection does.
      await refresh(connectionId);
    }
  }

  /** Resolves an open incident with its `incident.resolved` event, in one transaction. */
  private async resolve(incidentId: string, m?: EntityManager): Promise<IncidentRow | undefined> {
    if (!m) return this.incidents.db.transaction((t) => this.resolve(incidentId, t));
    const resolved = await this.incidents.resolve(m, incidentId);
    if (resolved) await this.events.record(m, incidentEvent('incident.resolved', resolved));
    return resolved;
  }

  private onResolved(incident: IncidentRow): void {
    this.metrics.resolved.inc({ platform: incident.platform, condition: incident.condition, audience: incident.audience });
    this.metrics.timeToHeal.observe({ platform: incident.platform, condition: incident.condition }, (Date.now() - incident.detectedAt.getTime()) / 1000);
  }

  private recipients(incident: IncidentRow, tenant: TenantEntity | null, user: string | undefined, kind: PromptKind, tag: string = kind): NewPrompt[] {
    if (incident.audience === 'user') return user ? [this.prompt(incident, kind, user, undefined, tag)] : [];
    if (!tenant?.admins.length) this.log.warn(`tenant ${incident.tenantId} has no admins: the ${incident.condition} incident cannot be told to anyone`);
    return (tenant?.admins ?? []).map((a) => this.prompt(incident, kind, a.userExternalId, a.email, tag));
  }

  private prompt(incident: IncidentRow, kind: PromptKind, recipient: string, email?: string, tag: string = kind): NewPrompt {
    return {
      incidentId: incident.id,
      tenantId: incident.tenantId,
      platform: incident.platform,
      kind,
      recipient,
      recipientEmail: email,
      dedupeKey: `${incident.id}:${recipient}:${tag}`,
    };
  }
}
