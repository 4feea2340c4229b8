import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deadLocalOwners } from '../common/lease';
import { AppConfig } from '../config/app-config';
import { ConnectionsMetrics } from './connections.metrics';
import { ConnectionsRepository } from './connections.repository';
import { LEASE_MS, Refresher } from './refresher';

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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.adoptCutoffs().catch((e: unknown) => this.log.warn(`could not check for cut-off refreshes: ${(e as Error).message}`));
    const timer = setInterval(() => void this.sweep(), this.config.refreshSweepIntervalMs);
    this.scheduler.addInterval('refresh-sweep', timer);
    this.refresher.onBackoff = (at) => this.wakeAt(at.getTime());
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
    const timer = setTimeout(() => {
      this.wake = undefined;
      const now = Date.now();
      for (const second of this.retrySeconds) if (second * 1000 <= now) this.retrySeconds.delete(second);
      // A sweep still draining may have claimed before this retry was due: look again shortly.
      if (this.running) this.retrySeconds.add(Math.ceil(now / 1000) + 1);
      else void this.sweep();
      this.armWake();
    }, Math.max(0, at - Date.now()) + 50);
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

  private async drain(): Promise<number> {
    const concurrency = this.config.refreshConcurrency;
    const minClaim = Math.max(1, Math.floor(concurrency / 4));
    const end = Date.now() + SWEEP_BUDGET_MS;
    const running = new Set<Promise<unknown>>();
    let started = 0;
    while (!this.stopping && Date.now() < end) {
      const room = concurrency - running.size;
      if (room >= minClaim || running.size === 0) {
        const rows = await this.repo.claimDue(this.refresher.owner, room, LEASE_MS);
        for (const row of rows) {
          const work: Promise<unknown> = this.refresher
            .refreshClaimed(row)
            .catch((e: unknown) => this.log.error(`refresh of ${row.id} failed unexpectedly: ${(e as Error).message}`))
            .finally(() => running.delete(work));
          running.add(work);
        }
        started += rows.length;
        if (rows.length === 0 && running.size === 0) break;
        if (rows.length > 0 && running.size < concurrency) continue;
      }
      await Promise.race(running);
    }
    await Promise.all(running);
    return started;
  }

  /** Refreshes a crash cut off mid-flight: counted, flagged, and due at once. */
  private async adoptCutoffs(): Promise<void> {
    const cut = await this.repo.adoptCutoffs(deadLocalOwners(await this.repo.leaseOwners()));
    for (const { platform } of cut) this.metrics.cutoffs.inc({ platform });
    if (cut.length > 0) this.log.warn(`${cut.length} refreshes were cut off by a crash; they are refreshed first`);
  }
}
