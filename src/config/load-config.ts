import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateBy, ValidationOptions, validateSync } from 'class-validator';
import { Type } from 'class-transformer';
import * as path from 'node:path';
import { parseRate } from '../common/rate-limit';
import { GenericProvider, loadProvidersFile } from '../platforms/generic/providers-file';
import { DEFAULT_BOT_SERVICE_HOSTS, parseHostPatterns } from '../platforms/microsoft/service-url';
import { parseKeyring } from '../vault/keyring';
import { AppConfig } from './app-config';
import { parseDuration, parseDurationList } from './duration';

const url = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

function IsDuration(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isDuration',
      validator: {
        validate: (value) => typeof value === 'string' && parseDuration(value) !== undefined,
        defaultMessage: () => 'must be a positive duration such as 30s, 15m, 1h or 7d',
      },
    },
    options,
  );
}

function IsDurationList(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isDurationList',
      validator: {
        validate: (value) => typeof value === 'string' && parseDurationList(value) !== undefined,
        defaultMessage: () => 'must be a comma-separated list of durations such as 1h,24h,72h',
      },
    },
    options,
  );
}

function IsHostPatterns(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isHostPatterns',
      validator: {
        validate: (value) => typeof value === 'string' && parseHostPatterns(value) !== undefined,
        defaultMessage: () => 'must be a comma-separated list of host names, each optionally starting with *. (e.g. smba.trafficmanager.net,*.botframework.com)',
      },
    },
    options,
  );
}

function IsRate(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isRate',
      validator: {
        validate: (value) => typeof value === 'string' && parseRate(value) !== undefined,
        defaultMessage: () => 'must be a rate such as 100/s, 10/1m or 500/1h, or off',
      },
    },
    options,
  );
}

/** The raw environment, as strings, with the rules each variable must meet. */
class Environment {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional() @IsUrl(url) PUBLIC_BASE_URL?: string;
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// connection string' })
  DATABASE_URL?: string;
  @IsOptional() @IsString() @MinLength(1) DATA_DIR?: string;
  @IsOptional() @IsString() VAULT_KEYS?: string;
  @IsOptional() @IsString() @MinLength(32, { message: 'must be at least 32 characters' }) ADMIN_API_KEY?: string;
  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL?: string;
  @IsOptional() @IsDuration() REFRESH_SWEEP_INTERVAL?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10000) REFRESH_CONCURRENCY?: number;
  @IsOptional() @IsDurationList() HEAL_REMINDER_SCHEDULE?: string;
  @IsOptional() @IsDuration() HEAL_PROBE_INTERVAL?: string;
  @IsOptional() @IsDuration() CONNECT_LINK_TTL?: string;
  @IsOptional() @IsDuration() OAUTH_PRUNE_INTERVAL?: string;
  @IsOptional() @IsDuration() EVENTS_PRUNE_INTERVAL?: string;
  @IsOptional() @IsIn(['true', 'false'], { message: 'must be true or false' }) WEBHOOK_ALLOW_PRIVATE_URLS?: string;
  @IsOptional() @IsDurationList() WEBHOOK_RETRY_SCHEDULE?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) WEBHOOK_CONCURRENCY?: number;
  @IsOptional() @IsRate() RATE_LIMIT?: string;
  @IsOptional() @IsRate() FORCED_REFRESH_LIMIT?: string;
  @IsOptional() @IsString() @MinLength(1) PROVIDERS_FILE?: string;
  @IsOptional() @IsDuration() BOARD_SESSION_TTL?: string;

  @IsOptional() @IsString() MICROSOFT_CLIENT_ID?: string;
  @IsOptional() @IsString() MICROSOFT_CLIENT_SECRET?: string;
  @IsOptional() @IsUrl(url) MICROSOFT_AUTHORITY_HOST?: string;
  @IsOptional() @IsString() MICROSOFT_BOT_APP_ID?: string;
  @IsOptional() @IsString() MICROSOFT_BOT_APP_SECRET?: string;
  @IsOptional() @IsUrl(url) MICROSOFT_BOT_SERVICE_URL?: string;
  @IsOptional() @IsHostPatterns() MICROSOFT_BOT_SERVICE_HOSTS?: string;
  @IsOptional() @IsString() SLACK_CLIENT_ID?: string;
  @IsOptional() @IsString() SLACK_CLIENT_SECRET?: string;
  @IsOptional() @IsUrl(url) SLACK_API_URL?: string;
  @IsOptional() @IsUrl(url) SLACK_AUTHORIZE_URL?: string;
  @IsOptional() @IsString() WEBEX_CLIENT_ID?: string;
  @IsOptional() @IsString() WEBEX_CLIENT_SECRET?: string;
  @IsOptional() @IsUrl(url) WEBEX_API_URL?: string;
  @IsOptional() @IsString() WEBEX_BOT_TOKEN?: string;
  @IsOptional() @IsString() ZOOM_CLIENT_ID?: string;
  @IsOptional() @IsString() ZOOM_CLIENT_SECRET?: string;
  @IsOptional() @IsUrl(url) ZOOM_OAUTH_URL?: string;
  @IsOptional() @IsUrl(url) ZOOM_API_URL?: string;
  @IsOptional() @IsString() ZOOM_BOT_JID?: string;
}

/** Thrown for a bad environment; its message is the one line start-up prints. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Already validated by `IsDuration`; the fallback only satisfies the type. */
const duration = (text: string): number => parseDuration(text) ?? 0;

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/**
 * Validates the environment once and returns the typed configuration. Values are never
 * echoed in errors: some of them are secrets.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') raw[k] = v;
  const e = plainToInstance(Environment, raw, { excludeExtraneousValues: false });
  const errors = validateSync(e, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((err) => `${err.property} ${Object.values(err.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  if (e.DATABASE_URL && !e.VAULT_KEYS) {
    throw new ConfigError('Invalid configuration: VAULT_KEYS is required when DATABASE_URL is set (id:base64 32-byte key, e.g. k1:$(openssl rand -base64 32))');
  }
  if (e.VAULT_KEYS) {
    try {
      parseKeyring(e.VAULT_KEYS);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
    }
  }
  let genericProviders: GenericProvider[] = [];
  if (e.PROVIDERS_FILE) {
    try {
      genericProviders = loadProvidersFile(path.resolve(e.PROVIDERS_FILE), env);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
    }
  }
  const port = e.PORT ?? 3000;
  const config = Object.assign(new AppConfig(), {
    port,
    host: e.HOST ?? '0.0.0.0',
    publicBaseUrl: trimSlash(e.PUBLIC_BASE_URL ?? `http://localhost:${port}`),
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR ?? './.data'),
    vaultKeys: e.VAULT_KEYS,
    adminApiKey: e.ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL ?? 'info',
    refreshSweepIntervalMs: duration(e.REFRESH_SWEEP_INTERVAL ?? '30s'),
    refreshConcurrency: e.REFRESH_CONCURRENCY ?? 64,
    healReminderScheduleMs: parseDurationList(e.HEAL_REMINDER_SCHEDULE ?? '1h,24h,72h') ?? [],
    healProbeIntervalMs: duration(e.HEAL_PROBE_INTERVAL ?? '15m'),
    connectLinkTtlMs: duration(e.CONNECT_LINK_TTL ?? '7d'),
    oauthPruneIntervalMs: duration(e.OAUTH_PRUNE_INTERVAL ?? '5m'),
    eventsPruneIntervalMs: duration(e.EVENTS_PRUNE_INTERVAL ?? '5m'),
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS === 'true',
    webhookRetryScheduleMs: parseDurationList(e.WEBHOOK_RETRY_SCHEDULE ?? '5s,5m,30m,2h,5h,10h,10h') ?? [],
    webhookConcurrency: e.WEBHOOK_CONCURRENCY ?? 8,
    rateLimit: parseRate(e.RATE_LIMIT ?? '100/s') ?? null,
    forcedRefreshLimit: parseRate(e.FORCED_REFRESH_LIMIT ?? '10/1m') ?? null,
    genericProviders,
    boardSessionTtlMs: duration(e.BOARD_SESSION_TTL ?? '8h'),
    microsoft: {
      clientId: e.MICROSOFT_CLIENT_ID,
      clientSecret: e.MICROSOFT_CLIENT_SECRET,
      authorityHost: trimSlash(e.MICROSOFT_AUTHORITY_HOST ?? 'https://login.microsoftonline.com'),
      botAppId: e.MICROSOFT_BOT_APP_ID,
      botAppSecret: e.MICROSOFT_BOT_APP_SECRET,
      botServiceUrl: e.MICROSOFT_BOT_SERVICE_URL,
      botServiceHosts: e.MICROSOFT_BOT_SERVICE_HOSTS ? (parseHostPatterns(e.MICROSOFT_BOT_SERVICE_HOSTS) ?? []) : [...DEFAULT_BOT_SERVICE_HOSTS],
    },
    slack: {
      clientId: e.SLACK_CLIENT_ID,
      clientSecret: e.SLACK_CLIENT_SECRET,
      apiUrl: e.SLACK_API_URL ?? 'https://slack.com/api/',
      authorizeUrl: e.SLACK_AUTHORIZE_URL ?? 'https://slack.com/oauth/v2/authorize',
    },
    webex: {
      clientId: e.WEBEX_CLIENT_ID,
      clientSecret: e.WEBEX_CLIENT_SECRET,
      apiUrl: trimSlash(e.WEBEX_API_URL ?? 'https://webexapis.com/v1'),
      botToken: e.WEBEX_BOT_TOKEN,
    },
    zoom: {
      clientId: e.ZOOM_CLIENT_ID,
      clientSecret: e.ZOOM_CLIENT_SECRET,
      oauthUrl: trimSlash(e.ZOOM_OAUTH_URL ?? 'https://zoom.us'),
      apiUrl: trimSlash(e.ZOOM_API_URL ?? 'https://api.zoom.us/v2'),
      botJid: e.ZOOM_BOT_JID,
    },
  });
  return config;
}
