import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { drainInBatches, PruneJob } from '../../common/prune-job';
import { AppConfig } from '../../config/app-config';
import { ConnectLinksRepository } from './connect-links.repository';

/**
 * Links stay this long after they expire (used and voided ones too), so an old link still
 * reads "expired" or "already used" rather than "not valid". They hold no secret, only hashes.
 */
export const LINK_RETENTION_MS = 30 * 86_400_000;

/**
 * Prunes expired OAuth states and long-expired connect links on a timer (SPEC §5: through an
 * index, never by a scan per request).
 */
@Injectable()
export class ConnectLinksPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ConnectLinksPruner');
  private readonly job = new PruneJob(this.log, 'OAuth states and links', () => this.prune());

  constructor(
    private readonly repo: ConnectLinksRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.job.start(this.config.oauthPruneIntervalMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** One pass (tests call it instead of waiting for the timer). */
  tick(): Promise<void> {
    return this.job.tick();
  }

  private async prune(): Promise<void> {
    const states = await drainInBatches((limit) => this.repo.pruneExpiredStates(limit));
    const links = await drainInBatches((limit) => this.repo.pruneLinks(new Date(Date.now() - LINK_RETENTION_MS), limit));
    if (states + links > 0) this.log.debug(`pruned ${states} OAuth states and ${links} connect links`);
  }
}
