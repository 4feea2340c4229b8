import type { Platform } from '../config/app-config';
import { Secret } from '../vault/secret';
import { isRecord } from '../common/is-record';
import { BOT_AUTH_FAILED, unparseable } from './bot-failure';
import { field, HttpResult, retryAfterSeconds, trimDescription, upstream } from './http';
import { ProviderFailure } from './platform';

/** A bot's app token (Bot Framework, Zoom chatbot) as the cache holds it. */
export interface BotToken {
  value: Secret;
  /** When the cache stops handing it out: shortly before the platform's expiry. */
  renewAt: number;
}

/** Renew this long before expiry, or at half the lifetime when that is shorter. */
const RENEW_MARGIN_MS = 5 * 60_000;

/**
 * One app token per bot, fetched when missing or about to expire. Concurrent callers
 * share one in-flight fetch, so a burst of prompts costs one token call, not one each.
 */
export class BotTokenCache {
  private current?: BotToken;
  private inFlight?: Promise<BotToken>;

  constructor(private readonly fetchToken: () => Promise<{ token: Secret; expiresInSeconds: number }>) {}

  /** The token `get()` would hand out now without fetching, if any. */
  cached(): BotToken | undefined {
    const current = this.current;
    return current && Date.now() < current.renewAt ? current : undefined;
  }

  async get(): Promise<BotToken> {
    const cached = this.cached();
    if (cached) return cached;
    this.inFlight ??= this.fetchToken()
      .then(({ token, expiresInSeconds }) => {
        const lifetimeMs = Math.max(0, expiresInSeconds * 1000);
        this.current = { value: token, renewAt: Date.now() + lifetimeMs - Math.min(RENEW_MARGIN_MS, lifetimeMs / 2) };
        return this.current;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** The platform refused this token before its expiry (revoked, rotated keys): fetch anew next time. */
  invalidate(token: BotToken): void {
    if (this.current === token) this.current = undefined;
  }
}

/**
 * Runs a bot call with the cached token. A 401 with a token that was already cached when
 * the call began is retried once with a fresh token; a 401 with a fresh one is returned, so
 * a persistent refusal costs one token call per send, not two. Which token was cached is
 * told by identity, not by clock (a token cached in the millisecond the call began is not
 * a fresh one).
 */
export async function withBotToken(cache: BotTokenCache, call: (token: Secret) => Promise<HttpResult>): Promise<HttpResult> {
  const cachedAtStart = cache.cached();
  const token = await cache.get();
  const result = await call(token.value);
  if (result.status !== 401 || token !== cachedAtStart) return result;
  cache.invalidate(token);
  return call((await cache.get()).value);
}

/**
 * An OAuth `client_credentials` grant for a bot's app token. Failures are reported as
 * `send` failures (that is what the caller was doing); refused bot credentials carry
 * `platformCode: 'bot_auth_failed'` so they read as an operator problem.
 */
export async function clientCredentialsToken(
  platform: Platform,
  url: string,
  init: { headers?: Record<string, string>; form: Record<string, string> },
): Promise<{ token: Secret; expiresInSeconds: number }> {
  const result = await upstream(platform, 'send', url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...init.headers },
    body: new URLSearchParams(init.form).toString(),
  });
  if (result.status < 200 || result.status >= 300) throw tokenFailure(platform, result);
  const accessToken = field(result.json, 'access_token');
  const expiresIn = isRecord(result.json) ? Number(result.json.expires_in) : Number.NaN;
  if (!accessToken) throw unparseable(platform, result, 'access_token');
  // A missing lifetime is read as a short one: the token is fetched again soon rather than used past its end.
  return { token: new Secret(accessToken), expiresInSeconds: Number.isFinite(expiresIn) ? expiresIn : 60 };
}

/** Entra (`error`, `error_codes`, `suberror`) and Zoom (`error`, `reason`) token-endpoint errors. */
function tokenFailure(platform: Platform, result: HttpResult): ProviderFailure {
  const json = result.json;
  const error = field(json, 'error');
  const description = field(json, 'error_description') ?? field(json, 'reason');
  const codes = isRecord(json) && Array.isArray(json.error_codes) ? json.error_codes : [];
  const aadsts = typeof codes[0] === 'number' ? codes[0] : Number(/AADSTS(\d+)/.exec(description ?? '')?.[1]) || undefined;
  const refused = result.status === 401 || error === 'invalid_client' || error === 'unauthorized_client';
  return new ProviderFailure({
    platform,
    operation: 'send',
    httpStatus: result.status,
    error,
    aadsts,
    suberror: field(json, 'suberror'),
    platformCode: refused ? BOT_AUTH_FAILED : field(json, 'reason'),
    description: trimDescription(description ?? (json === undefined ? result.text : undefined)),
    retryAfterSeconds: retryAfterSeconds(result.headers),
  });
}
