import type { Rate } from '../common/rate-limit';
import type { GenericProvider } from '../platforms/generic/providers-file';

/** The four platforms built in; PROVIDERS_FILE adds generic ones (SPEC §13). */
export type BuiltinPlatform = 'microsoft' | 'slack' | 'webex' | 'zoom';
export const BUILTIN_PLATFORMS: readonly BuiltinPlatform[] = ['microsoft', 'slack', 'webex', 'zoom'];
/** A platform's name: one of the four, or a generic provider's (`PLATFORM_NAME`). */
export type Platform = string;
/** SPEC §13: a generic provider's name; the four's names match it too. */
export const PLATFORM_NAME = /^[a-z][a-z0-9-]{1,30}$/;

export interface OAuthClientConfig {
  clientId?: string;
  clientSecret?: string;
}

/**
 * The typed, validated environment of SPEC §9, built once by `loadConfig` and injected
 * everywhere as this class. Nothing else reads `process.env`.
 */
export class AppConfig {
  port!: number;
  host!: string;
  publicBaseUrl!: string;
  /** Unset: the embedded PostgreSQL under `dataDir/pg` is started. */
  databaseUrl?: string;
  dataDir!: string;
  vaultKeys?: string;
  adminApiKey?: string;
  logLevel!: string;
  refreshSweepIntervalMs!: number;
  refreshConcurrency!: number;
  healReminderScheduleMs!: number[];
  healProbeIntervalMs!: number;
  connectLinkTtlMs!: number;
  /** How often expired OAuth states and old connect links are deleted (`OAUTH_PRUNE_INTERVAL`, an addition to SPEC §9). */
  oauthPruneIntervalMs!: number;
  /** How often events older than 30 days are deleted (`EVENTS_PRUNE_INTERVAL`, an addition to SPEC §9). */
  eventsPruneIntervalMs!: number;
  /** `WEBHOOK_ALLOW_PRIVATE_URLS` (SPEC §9): http and loopback/private webhook URLs allowed (tests, sandbox, demo). */
  webhookAllowPrivateUrls!: boolean;
  /** Delays between webhook delivery attempts (`WEBHOOK_RETRY_SCHEDULE`, SPEC §11's schedule by default). */
  webhookRetryScheduleMs!: number[];
  /** Deliveries in flight per endpoint, per replica (`WEBHOOK_CONCURRENCY`, an addition to SPEC §9). */
  webhookConcurrency!: number;
  /** Per API key, per replica (SPEC §5); null: `off`. */
  rateLimit!: Rate | null;
  /** Upstream refreshes forced by token calls, per connection and replica; null: `off`. */
  forcedRefreshLimit!: Rate | null;
  /** PROVIDERS_FILE's generic OAuth 2.0 / OIDC providers (SPEC §13), validated at start. */
  genericProviders!: GenericProvider[];
  /** `BOARD_SESSION_TTL` (SPEC §12): lifetime of an admin board session. */
  boardSessionTtlMs!: number;
  microsoft!: OAuthClientConfig & {
    authorityHost: string;
    botAppId?: string;
    botAppSecret?: string;
    botServiceUrl?: string;
    /** `MICROSOFT_BOT_SERVICE_HOSTS`: where a tenant's `serviceUrl` may point (SPEC §8); lower case, `*.` for subdomains. */
    botServiceHosts: string[];
  };
  slack!: OAuthClientConfig & { apiUrl: string; authorizeUrl: string };
  webex!: OAuthClientConfig & { apiUrl: string; botToken?: string };
  zoom!: OAuthClientConfig & { oauthUrl: string; apiUrl: string; botJid?: string };

  get embeddedDatabase(): boolean {
    return this.databaseUrl === undefined;
  }
}
