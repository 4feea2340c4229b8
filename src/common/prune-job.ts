import { Logger } from '@nestjs/common';

/** Rows deleted per statement, so a backlog never holds long locks or one huge transaction. */
export const PRUNE_BATCH = 500;
/** Batches per tick and table; what is left waits for the next tick. */
const MAX_BATCHES = 20;

/** Runs `deleteBatch(PRUNE_BATCH)` until a batch comes back short (or the per-tick cap); answers the rows deleted. */
export async function drainInBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await deleteBatch(PRUNE_BATCH);
    total += n;
    if (n < PRUNE_BATCH) break;
  }
  return total;
}

/**
 * A pruning pass on a timer, for the pruners of each module: every replica runs it (their
 * statements share the work with SKIP LOCKED), the timer never holds the process open, a tick
 * that finds the previous pass still running skips, and `stop` waits for a pass in flight.
 */
export class PruneJob {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly pass: () => Promise<void>,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  tick(): Promise<void> {
    this.running ??= this.pass()
      .catch((e: unknown) => this.log.warn(`pruning ${this.what} failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
