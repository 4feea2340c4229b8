import { AutoHealError } from './errors.js';
import { segment, Transport } from './http.js';
import type { AccessToken } from './types.js';

export interface GetTokenOptions {
  /** Seconds the token must stay valid; integer 0–86400, default 300 (the service's default). */
  minValiditySeconds?: number;
}

export interface WithTokenOptions extends GetTokenOptions {
  /** Whether what `fn` threw or returned is the platform refusing the token; see `isUnauthorized`. */
  isUnauthorized?: (outcome: unknown) => boolean;
}

interface Entry {
  token: AccessToken;
  expiresAtMs: number;
  storedAt: number;
  /** The minValiditySeconds the service answered this token for. */
  askedFor: number;
}

interface Flight {
  promise: Promise<AccessToken>;
  kind: 'read' | 'invalidate';
  minValiditySeconds: number;
}

/**
 * A token the service handed out already inside the caller's window (a platform whose tokens
 * live shorter than minValiditySeconds, or a clock behind ours) is shared this long with
 * callers asking no more, rather than sending each of them to the service for the same answer.
 */
const SHORT_TOKEN_SHARE_MS = 1_000;
/** Answers that say the connection itself is gone or unusable: its cached token goes too. */
const DROPS_ENTRY = new Set([401, 403, 404, 409, 410]);

/**
 * Token reads with an in-process cache and one call in flight per connection. A cached token
 * serves a caller until `expiresAt − minValiditySeconds` (that caller's); concurrent callers
 * of one connection share one service call; a failure reaches every caller sharing it and is
 * never cached.
 */
export class Tokens {
  private readonly cache = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  /** Bumped by invalidate: a read that was in flight then does not put its (older) token back. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly http: Transport,
    private readonly maxEntries = 10_000,
  ) {}

  /** A token valid for at least `minValiditySeconds`, from the cache when it can be. */
  async get(connectionId: string, options: GetTokenOptions = {}): Promise<AccessToken> {
    const minValiditySeconds = options.minValiditySeconds ?? 300;
    for (;;) {
      const hit = this.cached(connectionId, minValiditySeconds);
      if (hit) return hit;
      const flight = this.flights.get(connectionId);
      // The service's answer to the same or a stricter ask is the answer to this one.
      if (flight && (flight.kind === 'invalidate' || flight.minValiditySeconds >= minValiditySeconds)) return flight.promise;
      if (!flight) {
        return this.fly(connectionId, 'read', minValiditySeconds, () =>
          this.http.request<AccessToken>('POST', `/v1/connections/${segment(connectionId)}/access-token`, { body: { minValiditySeconds } }),
        );
      }
      // A laxer call is in flight: its token may do; if not, ask for ours after it.
      await flight.promise.catch(() => undefined);
    }
  }

  /**
   * The token was refused by the platform (a 401): drops the cached entry and has the service
   * refresh now (`POST …/invalidate`); concurrent invalidations of a connection share one call.
   */
  invalidate(connectionId: string): Promise<AccessToken> {
    const flight = this.flights.get(connectionId);
    if (flight?.kind === 'invalidate') return flight.promise;
    this.cache.delete(connectionId);
    this.generations.set(connectionId, (this.generations.get(connectionId) ?? 0) + 1);
    return this.fly(connectionId, 'invalidate', 0, () => this.http.request<AccessToken>('POST', `/v1/connections/${segment(connectionId)}/invalidate`));
  }

  /**
   * `refused` was refused: when the cache already holds another token (another caller
   * invalidated it first), that one; otherwise invalidate.
   */
  replace(connectionId: string, refused: string): Promise<AccessToken> {
    const flight = this.flights.get(connectionId);
    if (flight?.kind === 'invalidate') return flight.promise;
    const entry = this.cache.get(connectionId);
    if (entry && entry.token.accessToken !== refused && this.http.now() < entry.expiresAtMs) return Promise.resolve(entry.token);
    return this.invalidate(connectionId);
  }

  /** Forgets every cached token (the calls in flight still answer their callers). */
  clear(): void {
    this.cache.clear();
    for (const id of this.flights.keys()) this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  private cached(connectionId: string, minValiditySeconds: number): AccessToken | undefined {
    const entry = this.cache.get(connectionId);
    if (!entry) return undefined;
    const now = this.http.now();
    if (now < entry.expiresAtMs - minValiditySeconds * 1000) return entry.token;
    if (now < entry.expiresAtMs && minValiditySeconds <= entry.askedFor && now - entry.storedAt < SHORT_TOKEN_SHARE_MS) return entry.token;
    return undefined;
  }

  private fly(connectionId: string, kind: Flight['kind'], minValiditySeconds: number, call: () => Promise<AccessToken>): Promise<AccessToken> {
    const generation = this.generations.get(connectionId) ?? 0;
    const promise = call().then(
      (token) => {
        if ((this.generations.get(connectionId) ?? 0) === generation) this.store(connectionId, token, minValiditySeconds);
        return token;
      },
      (error: unknown) => {
        if (error instanceof AutoHealError && DROPS_ENTRY.has(error.status)) this.cache.delete(connectionId);
        throw error;
      },
    );
    const flight: Flight = { promise, kind, minValiditySeconds };
    this.flights.set(connectionId, flight);
    const land = () => {
      if (this.flights.get(connectionId) === flight) this.flights.delete(connectionId);
    };
    promise.then(land, land);
    return promise;
  }

  private store(connectionId: string, token: AccessToken, askedFor: number): void {
    const expiresAtMs = Date.parse(token.expiresAt);
    if (Number.isNaN(expiresAtMs)) return;
    this.cache.delete(connectionId); // re-inserted last: the Map's order is the eviction order
    this.cache.set(connectionId, { token, expiresAtMs, storedAt: this.http.now(), askedFor });
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}

/**
 * Whether an outcome of `fn` is the platform's 401: an object (thrown or returned) whose
 * `status` or `statusCode` is 401, or whose `response` has one (a fetch `Response`, axios,
 * got and most SDK errors). The service's own 401 (an `AutoHealError`: our API key) is not.
 */
export function isUnauthorized(outcome: unknown): boolean {
  if (typeof outcome !== 'object' || outcome === null || outcome instanceof AutoHealError) return false;
  const o = outcome as { status?: unknown; statusCode?: unknown; response?: unknown };
  if (o.status === 401 || o.statusCode === 401) return true;
  const r = o.response as { status?: unknown; statusCode?: unknown } | null | undefined;
  return typeof r === 'object' && r !== null && (r.status === 401 || r.statusCode === 401);
}

/**
 * Calls `fn` with a token; when it reports the platform's 401, invalidates once and calls it
 * once more with the new token. The second outcome is the caller's, 401 or not: thrown if
 * `fn` threw, returned if it returned.
 */
export async function withToken<T>(tokens: Tokens, connectionId: string, fn: (token: AccessToken) => Promise<T> | T, options: WithTokenOptions = {}): Promise<T> {
  const unauthorized = options.isUnauthorized ?? isUnauthorized;
  const first = await tokens.get(connectionId, options);
  try {
    const result = await fn(first);
    if (!unauthorized(result)) return result;
    // A refused Response is dropped: its unread body would hold the connection.
    if (typeof Response !== 'undefined' && result instanceof Response) await result.body?.cancel().catch(() => undefined);
  } catch (error) {
    if (!unauthorized(error)) throw error;
  }
  return fn(await tokens.replace(connectionId, first.accessToken));
}
