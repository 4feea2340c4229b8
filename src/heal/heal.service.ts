import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { GroupCommit } from '../common/group-commit';
import { AppConfig } from '../config/app-config';
import { ConnectLinksRepository } from '../connections/connect/connect-links.repository';
import { ConnectLinksService } from '../connections/connect/connect-links.service';
import type { ConnectionListener } from '../connections/connection-events';
import { ConnectionState } from '../connections/connection-state';
import type { ConnectionRow } from '../connections/connection.types';
import { ConnectionsRepository } from '../connections/connections.repository';
import { incidentEvent } from '../events/event-data';
import { EventLog } from '../events/event-log';
import type { NewEvent } from '../events/event-types';
import { AUDIENCE } from '../platforms/conditions';
import { OAuthProviders } from '../platforms/oauth-registry';
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
  /** Broken connections joining their incidents, a transaction per group (at most 2 at once, 200 connections each). */
  private readonly joins = new GroupCommit<string, string | undefined>(
    async (ids) => {
      const joined = await this.openMany(ids);
      return ids.map((id) => joined.get(id));
    },
    2,
    200,
  );

  constructor(
    private readonly incidents: IncidentsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly state: ConnectionState,
    private readonly links: ConnectLinksRepository,
    private readonly resyncLinks: ConnectLinksService,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly config: AppConfig,
    private readonly metrics: HealMetrics,
    /** Rung after prompts are queued, so the outbox delivers at once. */
    private readonly outbox: OutboxDoorbell,
    /** SPEC §11: incident and broken-connection events, in the transaction of the change. */
    private readonly events: EventLog,
    private readonly providers: OAuthProviders,
  ) {}

  broken(row: ConnectionRow): Promise<string | undefined> {
    return this.openFor(row.id);
  }

  /**
   * Opens or joins the incident of one broken connection. Idempotent. Answers the incident the
   * connection joined (undefined when it was not broken or already in one). Connections that
   * break while a join is being written go together in the next (a group commit): in a storm
   * every connection of a tenant joins the same incident, dozens per transaction, where a
   * transaction each (lock, find, attach, event) cost more than the refresh that failed. A
   * failed transaction fails each of its joins; heal's poll of unhealed rows takes them up again.
   */
  openFor(connectionId: string): Promise<string | undefined> {
    return this.joins.add(connectionId);
  }

  /**
   * One transaction for a group of broken connections: lock those in no incident yet, open or
   * join each case's one incident (per tenant and condition for admin audience, per connection
   * and condition for user audience), attach them all, and record each one's events with it;
   * the prompts of an incident it opened are queued in it too. A storm's group costs five
   * statements, not five per connection.
   */
  private async openMany(connectionIds: string[]): Promise<Map<string, string>> {
    const joined = new Map<string, string>();
    let queued = 0;
    await this.incidents.db.transaction(async (m) => {
      const cases = new Map<string, IncidentRow>();
      const tenants = new Map<string, TenantEntity | null>();
      const tenantOf = async (id: string) => {
        if (!tenants.has(id)) tenants.set(id, await m.getRepository(TenantEntity).findOne({ where: { id } }));
        return tenants.get(id) ?? null;
      };
      const events: NewEvent[] = [];
      const now = Date.now();
      // Once per transition: lockBroken only answers broken rows that are in no incident yet.
      for (const row of await this.incidents.lockBroken(m, connectionIds)) {
        const audience = AUDIENCE[row.condition];
        const key = `${audience === 'admin' ? row.tenantId : row.id} ${row.condition}`;
        let incident = cases.get(key);
        if (!incident) {
          const found = await this.incidents.openOrJoin(m, {
            tenantId: row.tenantId,
            platform: row.platform,
            condition: row.condition,
            audience,
            connectionId: audience === 'user' ? row.id : null,
            detectedAt: row.detectedAt ?? new Date(now),
            nextReminderAt: this.config.healReminderScheduleMs.length ? new Date(now + this.config.healReminderScheduleMs[0]) : null,
            nextProbeAt: audience === 'admin' ? new Date(now + this.config.healProbeIntervalMs) : null,
          });
          incident = found.incident;
          cases.set(key, incident);
          if (found.opened) {
            events.push(incidentEvent('incident.opened', incident));
            this.metrics.opened.inc({ platform: row.platform, condition: row.condition, audience });
            queued += await this.incidents.enqueue(m, this.recipients(incident, await tenantOf(row.tenantId), row.userExternalId, 'initial'));
          }
        }
        joined.set(row.id, incident.id);
        // SPEC §11: a user-audience break carries a re-sync link of its own, for the relay's UI (docs/decisions.md).
        const tenant = audience === 'user' ? await tenantOf(row.tenantId) : null;
        const link = tenant ? await this.resyncLinks.createResync(tenant, row.id, row.userExternalId, incident.id, m) : undefined;
        events.push({
          type: 'connection.broken',
          tenantId: row.tenantId,
          connectionId: row.id,
          data: {
            connectionId: row.id,
            platform: row.platform,
            tenantExternalId: row.tenantExternalId,
            userExternalId: row.userExternalId,
            status: audience === 'user' ? 'needs_reauth' : 'blocked',
            condition: row.condition,
            audience,
            incidentId: incident.id,
            ...(link ? { url: link.url, urlExpiresAt: link.expiresAt } : {}),
          },
        });
      }
      await this.state.attachIncidents(
        m,
        [...joined].map(([connectionId, incidentId]) => ({ connectionId, incidentId })),
      );
      await this.events.record(m, ...events);
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
      if (how === 'import' || !this.hasBot(row.platform)) continue; // SPEC §5: an import resolves without prompts
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
      const prompts = this.hasBot(resolved.platform) ? (tenant?.admins ?? []).map((a) => this.prompt(resolved, 'confirmation', a.userExternalId, a.email)) : [];
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
    // SPEC §13: a platform without a bot is told through §11 events only (connection.broken carries the re-sync url).
    if (!this.hasBot(incident.platform)) return [];
    if (incident.audience === 'user') return user ? [this.prompt(incident, kind, user, undefined, tag)] : [];
    if (!tenant?.admins.length) this.log.warn(`tenant ${incident.tenantId} has no admins: the ${incident.condition} incident cannot be told to anyone`);
    return (tenant?.admins ?? []).map((a) => this.prompt(incident, kind, a.userExternalId, a.email, tag));
  }

  private hasBot(platform: string): boolean {
    return this.providers.find(platform)?.prompts !== 'events';
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
