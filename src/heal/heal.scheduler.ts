import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deadLocalOwners } from '../common/lease';
import { ConnectionEvents } from '../connections/connection-events';
import { Refresher } from '../connections/refresh/refresher';
import { HealService } from './heal.service';
import { IncidentsRepository } from './incidents.repository';
import { OutboxWorker } from './outbox.worker';

const OUTBOX_MS = 1_000;
const UNHEALED_MS = 2_000;
const REMIND_PROBE_MS = 5_000;

/**
 * Heal's clocks. The connection events are the fast path; these polls make sure nothing a
 * crash interrupted is lost: broken connections without an incident, queued prompts,
 * due reminders and probes.
 */
@Injectable()
export class HealScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('HealScheduler');
  private stopping = false;
  private ticking = new Set<string>();

  constructor(
    private readonly heal: HealService,
    private readonly outbox: OutboxWorker,
    private readonly incidents: IncidentsRepository,
    private readonly refresher: Refresher,
    private readonly events: ConnectionEvents,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.events.subscribe(this.heal);
    await this.outbox.recoverDeadLeases(deadLocalOwners).catch((e: unknown) => this.log.warn(`could not recover prompt leases: ${(e as Error).message}`));
    this.every('heal-outbox', OUTBOX_MS, () => this.outbox.drain());
    this.every('heal-unhealed', UNHEALED_MS, async () => {
      for (const id of await this.incidents.unhealed(500)) await this.heal.openFor(id);
    });
    this.every('heal-reminders-probes', REMIND_PROBE_MS, async () => {
      await this.heal.remind();
      await this.heal.probe((id) => this.refresher.probe(id));
    });
    void this.outbox.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.outbox.drain();
  }

  private every(name: string, ms: number, job: () => Promise<void>): void {
    const timer = setInterval(() => {
      if (this.stopping || this.ticking.has(name)) return;
      this.ticking.add(name);
      job()
        .catch((e: unknown) => this.log.warn(`${name} failed: ${(e as Error).message}`))
        .finally(() => this.ticking.delete(name));
    }, ms);
    this.scheduler.addInterval(name, timer);
  }
}
