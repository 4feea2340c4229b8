import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { newLeaseOwner } from '../common/lease';
import { ConnectLinksService } from '../connections/connect/connect-links.service';
import { backoffMs } from '../connections/refresh/schedule';
import { BotSenders } from '../platforms/bot-registry';
import { isTransient } from '../platforms/classify';
import type { NewEvent } from '../events/event-types';
import { BotMessage, FailureSignals, ProviderFailure } from '../platforms/platform';
import { TenantEntity } from '../tenants/tenant.entity';
import { TenantsService } from '../tenants/tenants.service';
import { HealMetrics } from './heal.metrics';
import { IncidentRow, IncidentsRepository } from './incidents.repository';
import { OutboxDoorbell } from './outbox-doorbell';
import { OutboxItem, OutboxRepository } from './outbox.repository';
import { adminConfirmation, adminUserNote, initialPrompt, userConfirmation } from './prompt-texts';

/** Longer than a send's 10 s timeout (plus a bot-token fetch), so a live sender keeps it. */
const LEASE_MS = 30_000;
const BATCH = 50;
const MAX_ATTEMPTS = 12;

/** Delivers queued prompts through each platform's bot; at least once, retried with backoff. */
@Injectable()
export class OutboxWorker {
  readonly owner = newLeaseOwner();
  private readonly log = new Logger('Outbox');
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly incidents: IncidentsRepository,
    private readonly links: ConnectLinksService,
    private readonly bots: BotSenders,
    private readonly tenantsService: TenantsService,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly metrics: HealMetrics,
    doorbell: OutboxDoorbell,
  ) {
    doorbell.listen(() => void this.drain());
  }

  /** Delivers everything due; a call while a run is going makes that run go round again. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        for (let items = await this.outbox.claim(this.owner, BATCH, LEASE_MS); items.length > 0; items = await this.outbox.claim(this.owner, BATCH, LEASE_MS)) {
          await Promise.all(items.map((item) => this.deliver(item)));
        }
      } while (this.again);
    })()
      .catch((e: unknown) => this.log.warn(`outbox run failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const outcome = (o: string) => this.metrics.prompts.inc({ platform: item.platform, kind: item.kind, outcome: o });
    let incident: IncidentRow | undefined;
    try {
      incident = await this.incidents.find(item.incidentId, 'all');
      const tenant = await this.tenants.findOne({ where: { id: item.tenantId } });
      if (!incident || !tenant) return await this.outbox.failed(item.id, this.owner, 'incident or tenant is gone');
      if (incident.status === 'resolved' && item.kind !== 'confirmation') {
        outcome('skipped');
        return await this.outbox.failed(item.id, this.owner, 'the incident resolved before delivery');
      }
      const sender = this.bots.get(item.platform);
      if (!sender?.enabled) {
        outcome('failed');
        return await this.outbox.failed(item.id, this.owner, `no ${item.platform} bot is configured`, promptFailed(item, incident, 'no_bot'));
      }
      const message = await this.render(item, incident, tenant);
      await sender.send(
        { serviceUrl: tenant.bot.serviceUrl, accountId: tenant.bot.accountId, botToken: this.tenantsService.botToken(tenant) },
        { userExternalId: item.recipient, tenantExternalId: tenant.externalId, email: item.recipientEmail ?? undefined },
        message,
      );
      await this.outbox.sent(item.id, this.owner);
      outcome('sent');
      if (item.kind === 'initial')
        this.metrics.detectionToPrompt.observe({ platform: item.platform, audience: incident.audience }, (Date.now() - incident.detectedAt.getTime()) / 1000);
    } catch (error) {
      const failure = error instanceof ProviderFailure ? error : undefined;
      const reason = failure?.message ?? (error as Error).message;
      if ((!failure || isTransient(failure.signals)) && item.attempts < MAX_ATTEMPTS) {
        outcome('retry');
        const retryAfter = (failure?.signals.retryAfterSeconds ?? 0) * 1000;
        await this.outbox.retry(item.id, this.owner, reason, new Date(Date.now() + Math.max(backoffMs(item.attempts), retryAfter))).catch(() => undefined);
      } else {
        outcome('failed');
        this.log.warn(`prompt ${item.id} to ${item.platform} failed for good: ${reason}`);
        const why = !failure || isTransient(failure.signals) ? 'retries_exhausted' : 'refused';
        await this.outbox.failed(item.id, this.owner, reason, incident && promptFailed(item, incident, why, failure?.signals)).catch(() => undefined);
      }
    }
  }

  private async render(item: OutboxItem, incident: IncidentRow, tenant: TenantEntity): Promise<BotMessage> {
    if (item.kind === 'confirmation') {
      if (item.dedupeKey.endsWith(':admin-note')) return adminUserNote(item.platform, await this.userLabel(incident));
      if (incident.audience === 'user') return userConfirmation(item.platform);
      const [count] = await this.incidents.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM incident_connections WHERE incident_id = $1`, [incident.id]);
      return adminConfirmation(item.platform, incident.condition, count.n);
    }
    const reminder = item.kind === 'reminder';
    if (incident.audience === 'user' && incident.connectionId) {
      // The link is made at delivery, so no usable link is ever stored in the clear.
      const link = await this.links.createResync(tenant, incident.connectionId, item.recipient, incident.id);
      return initialPrompt(item.platform, incident.condition, 'you', link.url, reminder);
    }
    const [affected] = await this.incidents.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM incident_connections WHERE incident_id = $1`, [incident.id]);
    const who = affected.n === 1 ? `one user (${await this.userLabel(incident)})` : `${affected.n} users`;
    return initialPrompt(item.platform, incident.condition, who, undefined, reminder);
  }

  private async userLabel(incident: IncidentRow): Promise<string> {
    const rows = await this.incidents.db.query<{ u: string }[]>(
      `SELECT c.user_external_id AS u FROM incident_connections ic JOIN connections c ON c.id = ic.connection_id WHERE ic.incident_id = $1 LIMIT 1`,
      [incident.id],
    );
    return rows[0]?.u ?? 'a user';
  }

  /** At start: prompts leased by this host's crashed processes are taken back at once. */
  async recoverDeadLeases(dead: (owners: string[]) => string[]): Promise<void> {
    await this.outbox.releaseLeases(dead(await this.outbox.leaseOwners()));
  }
}

/** A platform's error code as an event may carry it: a code, never its free text. */
const codeOf = (s?: FailureSignals) => {
  const code = s && (s.platformCode ?? s.error ?? (s.httpStatus ? `http_${s.httpStatus}` : s.network));
  return code && /^[A-Za-z0-9_.:-]{1,64}$/.test(code) ? code : null;
};

/**
 * SPEC §11 `prompt.failed`: the person was not told. `reason` is ours: `no_bot` (no bot of the
 * platform is configured), `refused` (the platform refused the DM for good), `retries_exhausted`.
 */
function promptFailed(item: OutboxItem, incident: IncidentRow, reason: 'no_bot' | 'refused' | 'retries_exhausted', signals?: FailureSignals): NewEvent {
  const audience = incident.audience === 'user' && !item.dedupeKey.endsWith(':admin-note') ? 'user' : 'admin';
  return {
    type: 'prompt.failed',
    tenantId: item.tenantId,
    connectionId: incident.connectionId,
    data: {
      promptId: item.id,
      incidentId: incident.id,
      platform: item.platform,
      condition: incident.condition,
      kind: item.kind,
      audience,
      recipientExternalId: item.recipient,
      ...(incident.connectionId ? { connectionId: incident.connectionId } : {}),
      reason,
      code: codeOf(signals),
      attempts: item.attempts,
    },
  };
}
