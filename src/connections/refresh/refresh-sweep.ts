import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deadLocalOwners } from '../../common/lease';
import { AppConfig } from '../../config/app-config';
import { ConnectionsMetrics } from '../connections.metrics';
import type { ConnectionRow } from '../connection.types';
import { ConnectionsRepository } from '../connections.repository';
import { LEASE_MS, Refresher } from './refresher';
import { RetryAlarm } from './retry-alarm';

/** A sweep works through the backlog for at most this long, then yields to the next tick. */
const SWEEP_BUDGET_MS = 5 * 60_000;

/**
 * Refreshes connections ahead of expiry. Every replica runs it; each claims due rows with
 * `FOR UPDATE SKIP LOCKED` (taking their leases in the same statement), so replicas share
 * the work without double refreshes, and keeps at most REFRESH_CONCURRENCY upstream calls
 * in flight, claiming more as slots free up.
 */
@Injectable()
export class RefreshSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RefreshSweep');
  private running?: Promise<number>;
  private stopping = false;
  private wake?: { at: number; timer: NodeJS.Timeout };
  private readonly retrySeconds = new Set<number>();

  constructor(
    private readonly config: AppConfig,
    private readonly repo: ConnectionsRepository,
    private readonly refresher: Refresher,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: ConnectionsMetrics,
    alarm: RetryAlarm,
  ) {
    alarm.listen((at) => this.wakeAt(at.getTime()));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.adoptCutoffs().catch((e: unknown) => this.log.warn(`could not check for cut-off refreshes: ${(e as Error).message}`));
    const timer = setInterval(() => void this.sweep(), this.config.refreshSweepIntervalMs);
    this.scheduler.addInterval('refresh-sweep', timer);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.wake) clearTimeout(this.wake.timer);
    await this.running;
  }

  /**
   * Sweeps again when a retry this replica scheduled falls due, not at the next tick: a
   * platform outage then ends with every backed-off connection retried within its backoff
   * (at most 60 s), whatever REFRESH_SWEEP_INTERVAL is. Retry times are kept to the second
   * (backoff is capped at 60 s, so at most ~60 are pending) behind one timer for the earliest.
   */
  private wakeAt(at: number): void {
    if (this.stopping) return;
    this.retrySeconds.add(Math.ceil(at / 1000));
    this.armWake();
  }

  private armWake(): void {
    if (this.retrySeconds.size === 0) return;
    const at = Math.min(...this.retrySeconds) * 1000;
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(
      () => {
        this.wake = undefined;
        const now = Date.now();
        for (const second of this.retrySeconds) if (second * 1000 <= now) this.retrySeconds.delete(second);
        // A sweep still draining may have claimed before this retry was due: look again shortly.
        if (this.running) this.retrySeconds.add(Math.ceil(now / 1000) + 1);
        else void this.sweep();
        this.armWake();
      },
      Math.max(0, at - Date.now()) + 50,
    );
    this.wake = { at, timer };
  }

  /** One sweep; a tick that finds the previous sweep still running does nothing. Returns refreshes started. */
  sweep(): Promise<number> {
    this.running ??= this.drain()
      .catch((e: unknown) => {
        this.log.warn(`sweep failed: ${(e as Error).message}`);
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * A slot is held for the upstream call only (SPEC §9: upstream refreshes in flight); the
   * commit after it runs outside the slot, under a second bound of the same size. Rows are
   * claimed ahead into `ready`, so a slot that frees up while a claim is in flight is refilled
   * at once instead of idling through a database round trip.
   */
  private async drain(): Promise<number> {
    const concurrency = this.config.refreshConcurrency;
    const minClaim = Math.max(1, Math.floor(concurrency / 4));
    const end = Date.now() + SWEEP_BUDGET_MS;
    const owner = this.refresher.owner;
    const running = new Set<Promise<unknown>>();
    const ready: { row: ConnectionRow; claimedAt: number }[] = [];
    let upstream = 0;
    let claiming: Promise<void> | undefined;
    let claimError: { error: unknown } | undefined;
    // The last claim found nothing due: claim again only once a refresh has finished.
    let dry = false;
    let signal = () => {};
    let changed = new Promise<void>((r) => (signal = r));
    let started = 0;
    const start = (row: ConnectionRow) => {
      upstream++;
      const upstreamDone = () => {
        upstream--;
        signal();
      };
      const work: Promise<unknown> = this.refresher
        .refreshClaimed(row, upstreamDone)
        .catch((e: unknown) => this.log.error(`refresh of ${row.id} failed unexpectedly: ${(e as Error).message}`))
        .finally(() => {
          running.delete(work);
          dry = false;
          signal();
        });
      running.add(work);
      started++;
    };
    const giveBack = (row: ConnectionRow) =>
      this.repo.releaseLease(row.id, owner).catch((e: unknown) => this.log.warn(`could not release the lease of ${row.id}: ${(e as Error).message}`));
    try {
      while (!this.stopping && Date.now() < end) {
        if (claimError) throw claimError.error;
        while (upstream < concurrency && running.size < 2 * concurrency) {
          const next = ready.shift();
          if (!next) break;
          // A row that waited so long that its lease could lapse mid-refresh goes back instead.
          if (Date.now() - next.claimedAt < LEASE_MS / 3) start(next.row);
          else {
            const back: Promise<unknown> = giveBack(next.row).finally(() => running.delete(back));
            running.add(back);
          }
        }
        if (!claiming && !dry && ready.length < minClaim) {
          claiming = this.repo
            .claimDue(owner, concurrency - ready.length, LEASE_MS)
            .then((rows) => {
              const claimedAt = Date.now();
              for (const row of rows) ready.push({ row, claimedAt });
              dry = rows.length === 0;
            })
            .catch((error: unknown) => void (claimError = { error }))
            .finally(() => {
              claiming = undefined;
              signal();
            });
        }
        if (!claiming && ready.length === 0 && running.size === 0) break;
        // Whatever settled since the last look (even during a claim) has already resolved `changed`.
        await changed;
        changed = new Promise<void>((r) => (signal = r));
      }
    } finally {
      await claiming;
      // Claimed but not started (stopping, out of budget, or a failed claim): back at once, not after the lease.
      await Promise.all(ready.splice(0).map((r) => giveBack(r.row)));
      await Promise.all(running);
    }
    return started;
  }

  /** Refreshes a crash cut off mid-flight: counted, flagged, and due at once. */
  private async adoptCutoffs(): Promise<void> {
    const cut = await this.repo.adoptCutoffs(deadLocalOwners(await this.repo.leaseOwners()));
    for (const { platform } of cut) this.metrics.cutoffs.inc({ platform });
    if (cut.length > 0) this.log.warn(`${cut.length} refreshes were cut off by a crash; they are refreshed first`);
  }
}
