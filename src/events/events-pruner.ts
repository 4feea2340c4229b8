import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { drainInBatches, PruneJob } from '../common/prune-job';
import { AppConfig } from '../config/app-config';
import { EventsRepository } from './events.repository';

/** SPEC §11: events are kept 30 days. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;

/** Deletes events older than 30 days on a timer (`EVENTS_PRUNE_INTERVAL`). */
@Injectable()
export class EventsPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('EventsPruner');
  private readonly job = new PruneJob(this.log, 'events', () => this.prune());

  constructor(
    private readonly repo: EventsRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(this.config.eventsPruneIntervalMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One pass (tests call it instead of waiting for the timer). */
  tick(): Promise<void> {
    return this.job.tick();
  }

  private async prune(): Promise<void> {
    const before = new Date(Date.now() - EVENT_RETENTION_MS);
    const total = await drainInBatches((limit) => this.repo.prune(before, limit));
    if (total > 0) this.log.debug(`pruned ${total} events older than 30 days`);
  }
}
