import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventsRepository } from './events.repository';

/** Rows deleted per statement, so a backlog never holds long locks or one huge transaction. */
const BATCH = 500;
/** Batches per tick; what is left waits for the next tick. */
const MAX_BATCHES = 20;
/** SPEC §11: events are kept 30 days. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;

/** Deletes events older than 30 days on a timer (`EVENTS_PRUNE_INTERVAL`). Every replica runs it; SKIP LOCKED shares the work. */
@Injectable()
export class EventsPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('EventsPruner');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly repo: EventsRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.eventsPruneIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; a tick that finds the previous one still running skips. */
  tick(): Promise<void> {
    this.running ??= this.prune()
      .catch((e: unknown) => this.log.warn(`pruning events failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async prune(): Promise<void> {
    const before = new Date(Date.now() - EVENT_RETENTION_MS);
    let total = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await this.repo.prune(before, BATCH);
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) this.log.debug(`pruned ${total} events older than 30 days`);
  }
}
