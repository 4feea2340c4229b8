import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Platform } from '../../config/app-config';
import { queryRows } from '../../database/sql';
import { EventLog } from '../../events/event-log';
import { ReadinessContributor } from '../../observability/readiness.service';
import { OAuthProviders } from '../../platforms/oauth-registry';

type ClientState = 'ok' | 'disabled' | 'misconfigured';

/**
 * Whether our own OAuth client of each platform works. A misconfigured client (expired
 * secret…) is an operator problem: readiness stays 200 (other platforms still work) and
 * lists `details.clients.<platform>: "misconfigured"`.
 *
 * The state is shared by the replicas in `platform_clients`: the first refusal after a working
 * refresh writes `client.misconfigured` with it, the first refresh that works again writes
 * `client.recovered` (SPEC §11), each once across replicas. This process keeps what it knows in
 * memory (loaded at start), so a working refresh costs no statement while the client is fine.
 */
@Injectable()
export class ClientHealth extends ReadinessContributor implements OnModuleInit {
  private readonly log = new Logger('ClientHealth');
  private readonly misconfigured = new Map<Platform, string>();
  /** One write per platform at a time from this process. */
  private readonly writing = new Map<Platform, Promise<void>>();

  constructor(
    private readonly providers: OAuthProviders,
    private readonly db: DataSource,
    private readonly events: EventLog,
  ) {
    super();
    for (const p of providers.all()) if (!p.enabled) this.log.warn(`${p.platform}: no client credentials configured; the platform is disabled`);
  }

  /** What the replicas recorded before this one started: a refresh that works then tells `client.recovered`. */
  async onModuleInit(): Promise<void> {
    try {
      const rows = await queryRows<{ platform: Platform; code: string | null }>(this.db, `SELECT platform, code FROM platform_clients WHERE misconfigured_since IS NOT NULL`);
      for (const r of rows) this.misconfigured.set(r.platform, r.code ?? 'unknown');
    } catch (error) {
      this.log.warn(`could not read the OAuth clients' state (${(error as Error).message}); starting as if they work`);
    }
  }

  state(platform: Platform): ClientState {
    const provider = this.providers.all().find((p) => p.platform === platform);
    if (!provider?.enabled) return 'disabled';
    return this.misconfigured.has(platform) ? 'misconfigured' : 'ok';
  }

  /** The platform refused our client (`code` is its error code). */
  reportMisconfigured(platform: Platform, code: string): Promise<void> {
    if (this.misconfigured.has(platform)) return this.writing.get(platform) ?? Promise.resolve();
    return this.once(platform, async () => {
      const rows = await this.db.transaction(async (m) => {
        const marked = await queryRows<{ since: Date }>(
          m,
          `INSERT INTO platform_clients AS pc (platform, misconfigured_since, code) VALUES ($1, now(), $2)
           ON CONFLICT (platform) DO UPDATE SET misconfigured_since = now(), code = EXCLUDED.code, updated_at = now()
           WHERE pc.misconfigured_since IS NULL RETURNING misconfigured_since AS since`,
          [platform, code],
        );
        if (marked[0]) await this.events.record(m, { type: 'client.misconfigured', tenantId: null, data: { platform, code, since: marked[0].since.toISOString() } });
        return marked;
      });
      this.misconfigured.set(platform, code);
      if (rows[0]) this.log.error(`${platform}: our OAuth client is refused (${code}); fix its credentials`);
    });
  }

  /** A refresh of the platform worked. */
  reportWorking(platform: Platform): Promise<void> {
    if (!this.misconfigured.has(platform)) return Promise.resolve();
    return this.once(platform, async () => {
      const rows = await this.db.transaction(async (m) => {
        const cleared = await queryRows<{ since: Date }>(
          m,
          `WITH before AS (SELECT misconfigured_since AS since FROM platform_clients WHERE platform = $1 AND misconfigured_since IS NOT NULL FOR UPDATE)
           UPDATE platform_clients SET misconfigured_since = NULL, code = NULL, updated_at = now() FROM before WHERE platform = $1 RETURNING before.since`,
          [platform],
        );
        if (cleared[0]) await this.events.record(m, { type: 'client.recovered', tenantId: null, data: { platform, misconfiguredSince: cleared[0].since.toISOString() } });
        return cleared;
      });
      this.misconfigured.delete(platform);
      if (rows[0]) this.log.log(`${platform}: the OAuth client works again`);
    });
  }

  contribute(details: Record<string, unknown>): Promise<boolean> {
    details.clients = Object.fromEntries(this.providers.all().map((p) => [p.platform, this.state(p.platform)]));
    return Promise.resolve(true);
  }

  /** Runs `write` unless one is running for the platform; a failed write is logged and tried again by the next report. */
  private once(platform: Platform, write: () => Promise<void>): Promise<void> {
    const running = this.writing.get(platform);
    if (running) return running;
    const done = write()
      .catch((error: unknown) => this.log.warn(`could not record the ${platform} OAuth client's state (${(error as Error).message})`))
      .finally(() => this.writing.delete(platform));
    this.writing.set(platform, done);
    return done;
  }
}
