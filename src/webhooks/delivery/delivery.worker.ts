import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { deadLocalOwners, newLeaseOwner } from '../../common/lease';
import { AppConfig } from '../../config/app-config';
import { ClaimedDelivery, DeliveryHandoff, DeliveryTaker } from '../../events/delivery-handoff';
import { EventLog } from '../../events/event-log';
import type { Secret } from '../../vault/secret';
import { WebhookEndpointsService } from '../webhook-endpoints.service';
import { AttemptResult, DeliveriesRepository, DisabledEndpoint } from './deliveries.repository';
import { DeliveryMetrics } from './delivery.metrics';
import { signatures } from './signature';
import { DELIVERY_TIMEOUT_MS, postWebhook } from './webhook-post';

/** SPEC §11: an endpoint whose deliveries all failed for 5 days is disabled. */
export const DISABLE_AFTER_MS = 5 * 86_400_000;
/**
 * A claimed delivery is ours this long. It may wait in its endpoint's local queue behind one
 * POST (the ≤ 5 s DNS check and the 10 s POST) before its own: twice that, and margin.
 */
const LEASE_MS = 2 * (DELIVERY_TIMEOUT_MS + 5_000) + 10_000;
/** The longest one attempt takes (the DNS check, then the POST): one starts only with this much of its lease left. */
const ATTEMPT_MAX_MS = DELIVERY_TIMEOUT_MS + 5_000;
/**
 * How many handed-over deliveries a lane holds. A claim fills a lane only to twice the
 * concurrency (what it claims is due now); what this process's own transactions hand over may
 * queue deeper, since a delivery whose lease ran short before its turn is left to the outbox.
 */
const HANDOFF_DEPTH = 1_000;
/** With nothing due, look again this often (another replica's events, retries coming due). */
const IDLE_MS = 250;
/** After an attempt ends, wait this long for others so their results settle in one statement. */
const SETTLE_AFTER_MS = 5;
const SECRETS_TTL_MS = 60_000;
const RECOVER_EVERY_MS = 60_000;

interface Lane {
  inFlight: number;
  queued: ClaimedDelivery[];
  /** Due rows of this endpoint may wait in the outbox: claim again as the lane drains. */
  backlog: boolean;
}

/**
 * The webhook outbox's worker (SPEC §11). Deliveries reach a local lane per endpoint two ways:
 * handed over by this process's transactions as they commit (leased to us when written, see
 * DeliveryHandoff; up to HANDOFF_DEPTH deep), and claimed by a loop from the outbox (other
 * replicas' events, retries, replays, what a full lane handed back; a claim fills a lane only
 * to twice `WEBHOOK_CONCURRENCY`). Each lane
 * runs at most `WEBHOOK_CONCURRENCY` POSTs at once and starts the next as soon as one ends;
 * finished attempts settle in batches beside it. A slow or dead endpoint holds only its own
 * lane, never another endpoint's nor any token call (the POSTs are sockets, not work).
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown, DeliveryTaker {
  private readonly log = new Logger('Webhooks');
  readonly owner = newLeaseOwner();
  readonly leaseMs = LEASE_MS;
  private readonly lanes = new Map<string, Lane>();
  private readonly finished: AttemptResult[] = [];
  private readonly secrets = new Map<string, { version: string; secrets: Secret[]; at: number }>();
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private settling?: Promise<void>;
  private settleTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private woken = false;
  private recoveredAt = 0;

  constructor(
    private readonly repo: DeliveriesRepository,
    private readonly endpoints: WebhookEndpointsService,
    private readonly events: EventLog,
    private readonly config: AppConfig,
    private readonly metrics: DeliveryMetrics,
    private readonly handoff: DeliveryHandoff,
  ) {}

  onApplicationBootstrap(): void {
    this.handoff.attach(this);
    this.loop = this.run();
  }

  /**
   * Stops claiming, aborts POSTs in flight (not counted as attempts), settles what finished,
   * and hands its leases back so another replica (or the next start) sends them at once.
   */
  async onApplicationShutdown(): Promise<void> {
    this.handoff.detach(this);
    this.stopping.abort();
    this.lanes.clear();
    this.wakeSoon(0);
    await this.loop;
    clearTimeout(this.settleTimer);
    await this.settling;
    await this.settle().catch(() => undefined);
    await this.repo.releaseLeases([this.owner]).catch(() => undefined);
  }

  /** Committed deliveries of this process, leased to us: into their lanes; what does not fit goes back to the outbox. */
  take(deliveries: ClaimedDelivery[]): void {
    if (this.stopping.signal.aborted) return this.release(deliveries);
    const overflow: ClaimedDelivery[] = [];
    for (const d of deliveries) {
      const lane = this.lane(d.endpointId);
      if (lane.inFlight + lane.queued.length < HANDOFF_DEPTH) lane.queued.push(d);
      else overflow.push(d);
    }
    for (const id of new Set(deliveries.map((d) => d.endpointId))) this.pump(id);
    this.release(overflow);
  }

  /** Hands leases back to the outbox (any claim sends them); on failure they end by themselves. */
  release(deliveries: ClaimedDelivery[]): void {
    if (deliveries.length === 0) return;
    for (const d of deliveries) {
      const lane = this.lanes.get(d.endpointId);
      if (lane) lane.backlog = true; // claim them again as it drains (without a lane, the idle poll does)
    }
    this.repo
      .release(
        this.owner,
        deliveries.map((d) => ({ endpointId: d.endpointId, eventId: d.event.id })),
      )
      .catch((e: unknown) => this.log.warn(`handing back ${deliveries.length} deliveries: ${(e as Error).message}`));
  }

  /** Rung when something was queued (a test ping, a replay): look now rather than at the next poll. */
  ring(): void {
    this.wakeSoon(0);
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        if (Date.now() - this.recoveredAt > RECOVER_EVERY_MS) {
          this.recoveredAt = Date.now();
          await this.repo.releaseLeases(deadLocalOwners(await this.repo.leaseOwners()));
        }
        // Straight on only after a full claim (a backlog); otherwise wait for a lane to drain below
        // its concurrency (it rings) or for the idle poll. Claiming again after every finished POST
        // cost more than the POST: in a storm, 1,570 claims of 2 rows each took 5.8 s of PostgreSQL.
        const claimed = await this.claim();
        if (claimed < 2 * this.config.webhookConcurrency) await this.pause(IDLE_MS);
      } catch (e) {
        this.log.warn(`delivery loop: ${(e as Error).message}`);
        await this.pause(1000);
      }
    }
  }

  /** Fills every lane up to twice the concurrency; answers how many were claimed. */
  private async claim(): Promise<number> {
    const depth = 2 * this.config.webhookConcurrency;
    const room = new Map<string, number>();
    for (const [id, lane] of this.lanes) room.set(id, depth - lane.inFlight - lane.queued.length);
    const claimed = await this.repo.claim(this.owner, LEASE_MS, depth, room);
    if (this.stopping.signal.aborted) return 0;
    const got = new Map<string, number>();
    for (const d of claimed) {
      this.lane(d.endpointId).queued.push(d);
      got.set(d.endpointId, (got.get(d.endpointId) ?? 0) + 1);
    }
    for (const [id, lane] of this.lanes) {
      const asked = room.get(id) ?? depth;
      if (asked > 0) lane.backlog = (got.get(id) ?? 0) >= asked; // a full claim: there may be more
    }
    for (const id of got.keys()) this.pump(id);
    return claimed.length;
  }

  private lane(endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (!lane) this.lanes.set(endpointId, (lane = { inFlight: 0, queued: [], backlog: false }));
    return lane;
  }

  /**
   * Starts queued deliveries of one endpoint while it has free slots. One whose lease would
   * end before its attempt could is not sent: it is left to the outbox, claimed again there.
   */
  private pump(endpointId: string): void {
    const lane = this.lanes.get(endpointId);
    if (!lane) return;
    while (lane.inFlight < this.config.webhookConcurrency && lane.queued.length > 0) {
      const d = lane.queued.shift() as ClaimedDelivery;
      if (d.leaseEndsAt - Date.now() < ATTEMPT_MAX_MS) {
        lane.backlog = true;
        continue;
      }
      lane.inFlight++;
      void this.deliver(d).finally(() => {
        lane.inFlight--;
        if (lane.inFlight === 0 && lane.queued.length === 0) this.lanes.delete(endpointId);
        else this.pump(endpointId);
        if (lane.backlog && lane.queued.length < this.config.webhookConcurrency) this.wakeSoon(0); // claim more while this lane drains
      });
    }
    if (lane.inFlight === 0 && lane.queued.length === 0) this.lanes.delete(endpointId);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    try {
      const secrets = await this.secretsOf(d.endpointId, d.endpointVersion);
      if (secrets.length === 0) return; // the endpoint is gone, and its deliveries with it
      const body = JSON.stringify(payloadOf(d.event));
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = { 'webhook-id': d.event.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures(secrets, d.event.id, timestamp, body) };
      const outcome = await postWebhook(d.url, headers, body, this.config.webhookAllowPrivateUrls, this.stopping.signal);
      if (!outcome.ok && outcome.error === 'aborted') return; // shutting down: not an attempt
      this.done({
        endpointId: d.endpointId,
        eventId: d.event.id,
        ok: outcome.ok,
        statusCode: outcome.status ?? null,
        error: outcome.ok ? null : outcome.error,
        retryAfterSeconds: outcome.ok ? null : (outcome.retryAfterSeconds ?? null),
      });
    } catch (e) {
      this.log.warn(`delivery of ${d.event.id}: ${(e as Error).message}`);
      this.done({ endpointId: d.endpointId, eventId: d.event.id, ok: false, statusCode: null, error: 'internal', retryAfterSeconds: null });
    }
  }

  /** Queues a finished attempt to settle with the others that end within a few milliseconds. */
  private done(result: AttemptResult): void {
    this.finished.push(result);
    this.scheduleSettle(SETTLE_AFTER_MS);
  }

  /** One settle at a time; after a failure (the database is away) the next waits a second. */
  private scheduleSettle(delayMs: number): void {
    if (this.settleTimer || this.settling || this.finished.length === 0 || this.stopping.signal.aborted) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      let failed = false;
      this.settling = this.settle()
        .catch((e: unknown) => {
          failed = true;
          this.log.warn(`settling deliveries: ${(e as Error).message}`);
        })
        .finally(() => {
          this.settling = undefined;
          this.scheduleSettle(failed ? 1000 : SETTLE_AFTER_MS);
        });
    }, delayMs);
  }

  /** Settles every finished attempt in one transaction; endpoints disabled by it get their event there. */
  private async settle(): Promise<void> {
    if (this.finished.length === 0) return;
    const batch = this.finished.splice(0, this.finished.length);
    try {
      const settled = await this.repo.settle(
        this.owner,
        batch,
        this.config.webhookRetryScheduleMs.map((ms) => ms / 1000),
        DISABLE_AFTER_MS,
        (m, disabled) => this.recordDisabled(m, disabled),
      );
      for (const s of settled) {
        this.metrics.deliveries.inc({ outcome: s.status === 'pending' ? 'retry' : s.status });
        if (s.status === 'delivered') this.metrics.lag.observe(s.lagSeconds);
      }
    } catch (e) {
      this.finished.unshift(...batch); // the database is away: keep them for the next round
      throw e;
    }
  }

  private recordDisabled(m: EntityManager, disabled: readonly DisabledEndpoint[]): Promise<void> {
    for (const d of disabled) this.log.warn(`webhook endpoint ${d.id} disabled: every delivery failed since ${d.failingSince.toISOString()}`);
    return this.events.record(
      m,
      ...disabled.flatMap((d) =>
        (d.tenantIds ?? [null]).map((tenantId) => ({
          type: 'endpoint.disabled' as const,
          tenantId,
          data: { endpointId: d.id, failingSince: d.failingSince.toISOString(), disabledAt: new Date().toISOString() },
        })),
      ),
    );
  }

  private async secretsOf(endpointId: string, version: string): Promise<Secret[]> {
    const cached = this.secrets.get(endpointId);
    if (cached && cached.version === version && Date.now() - cached.at < SECRETS_TTL_MS) return cached.secrets;
    const secrets = await this.endpoints.signingSecrets(endpointId);
    this.secrets.set(endpointId, { version, secrets, at: Date.now() });
    return secrets;
  }

  /** Sleeps up to `ms`, or not at all when a delivery ended (or a ring came) since the last pause. */
  private pause(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private wakeSoon(delayMs: number): void {
    const wake = this.wake;
    if (wake) setTimeout(wake, delayMs).unref();
    else this.woken = true;
  }
}

/** The body SPEC §11 fixes: `{id, type, createdAt, tenantId, data}`, the sequence inside data (as GET /v1/events). */
function payloadOf(e: ClaimedDelivery['event']): Record<string, unknown> {
  return { id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), tenantId: e.tenantId, data: { ...e.data, sequence: e.sequence } };
}
