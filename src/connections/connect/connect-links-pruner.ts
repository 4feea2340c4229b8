import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ConnectLinksRepository } from './connect-links.repository';

/** Rows deleted per statement, so a backlog never holds long locks or one huge transaction. */
const BATCH = 500;
/** Batches per tick and table; what is left waits for the next tick. */
const MAX_BATCHES = 20;
/**
 * Links stay this long after they expire (used and voided ones too), so an old link still
 * reads "expired" or "already used" rather than "not valid". They hold no secret, only hashes.
 */
export const LINK_RETENTION_MS = 30 * 86_400_000;

/**
 * Prunes expired OAuth states and long-expired connect links on a timer (SPEC §5: through an
 * index, never by a scan per request). Every replica runs it; SKIP LOCKED shares the work.
 */
@Injectable()
export class ConnectLinksPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ConnectLinksPruner');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly repo: ConnectLinksRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.oauthPruneIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; a tick that finds the previous one still running skips. */
  tick(): Promise<void> {
    this.running ??= this.prune()
      .catch((e: unknown) => this.log.warn(`pruning OAuth states and links failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async prune(): Promise<void> {
    const states = await this.drain(() => this.repo.pruneExpiredStates(BATCH));
    const links = await this.drain(() => this.repo.pruneLinks(new Date(Date.now() - LINK_RETENTION_MS), BATCH));
    if (states + links > 0) this.log.debug(`pruned ${states} OAuth states and ${links} connect links`);
  }

  private async drain(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await batch();
      total += n;
      if (n < BATCH) break;
    }
    return total;
  }
}
