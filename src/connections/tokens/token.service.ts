import { Injectable, Logger } from '@nestjs/common';
import { Caller, canSeeTenant } from '../../common/auth';
import { AppError, ProblemCode } from '../../common/problem';
import { SlidingWindows } from '../../common/rate-limit';
import { AppConfig } from '../../config/app-config';
import { UUID } from '../../common/strings';
import { AUDIENCE } from '../../platforms/conditions';
import { Secret } from '../../vault/secret';
import { AuditLog } from '../audit/audit-log';
import { ClientHealth } from '../refresh/client-health';
import type { ConnectionRow, TenantScope } from '../connection.types';
import { ConnectionsMetrics } from '../connections.metrics';
import { ConnectionsRepository } from '../connections.repository';
import { Refresher } from '../refresh/refresher';
import { retryAfterSeconds } from '../refresh/schedule';
import { TokenSealer } from '../token-sealer';

export interface AccessTokenResult {
  connectionId: string;
  accessToken: string;
  tokenType: string;
  expiresAt: string;
  scopes: string[];
}

/**
 * How long a row read from PostgreSQL answers token calls without reading it again. A
 * change made on this replica (refresh, revoke, re-sync) replaces the entry at once;
 * one made on another replica is seen within this time.
 */
const CACHE_MS = 1_000;
const CACHE_MAX = 50_000;

interface Cached {
  row: ConnectionRow;
  accessToken: Secret | undefined;
  readAt: number;
}

/** One token call's pass through `FORCED_REFRESH_LIMIT`: asked only if the call would refresh upstream itself. */
interface Gate {
  admit?: () => boolean;
  /** Set when the limit refused: milliseconds until a refresh is allowed again. */
  refusedMs: number;
}

/** "Give me a valid access token for this user now", fast, one refresh at a time. */
@Injectable()
export class TokenService {
  private readonly log = new Logger('TokenService');
  private readonly cache = new Map<string, Cached>();
  private readonly reading = new Map<string, Promise<ConnectionRow | undefined>>();
  /** SPEC §5: upstream refreshes forced by token calls, per connection (callers sharing one count once). */
  private readonly forced: SlidingWindows | undefined;

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly refresher: Refresher,
    private readonly sealer: TokenSealer,
    private readonly audit: AuditLog,
    private readonly clients: ClientHealth,
    private readonly metrics: ConnectionsMetrics,
    config: AppConfig,
  ) {
    this.forced = config.forcedRefreshLimit ? new SlidingWindows(config.forcedRefreshLimit) : undefined;
  }

  async accessToken(caller: Caller, id: string, minValiditySeconds: number): Promise<AccessTokenResult> {
    const started = Date.now();
    const validUntil = new Date(started + minValiditySeconds * 1000);
    let entry = await this.read(caller, id);
    const usable = (e: Cached) => e.row.status === 'active' && e.accessToken !== undefined && e.row.accessTokenExpiresAt !== null;
    if (usable(entry) && (entry.row.accessTokenExpiresAt as Date) >= validUntil) {
      return this.answer(caller, entry, 'read');
    }
    this.assertActive(entry.row);
    const before = entry.row.version;
    const gate = this.gate(id);
    // A row read from the database by this call (not the cache) spares the refresher its own first read.
    const refreshed = await this.refresher.ensure(id, { validUntil, admit: gate.admit }, entry.readAt >= started ? entry.row : undefined);
    if (refreshed) entry = this.remember(refreshed);
    this.assertActive(entry.row);
    // A fresh token that still has less validity than asked is returned anyway (SPEC §5);
    // a failed or refused refresh still serves the current token while it is valid.
    const expiresAt = entry.row.accessTokenExpiresAt;
    if (usable(entry) && expiresAt && expiresAt.getTime() > Date.now()) {
      return this.answer(caller, entry, entry.row.version > before ? 'refreshed' : gate.refusedMs > 0 ? 'limited' : 'stale');
    }
    if (gate.refusedMs > 0) throw this.limited(gate.refusedMs);
    throw this.unavailable(entry.row);
  }

  /** The relay's token was refused (401): refresh now and return the new token. */
  async invalidate(caller: Caller, id: string): Promise<AccessTokenResult> {
    const entry = await this.read(caller, id, true);
    this.assertActive(entry.row);
    const gate = this.gate(id);
    const refreshed = await this.refresher.ensure(id, { newerThan: entry.row.version, admit: gate.admit });
    const next = refreshed ? this.remember(refreshed) : entry;
    this.assertActive(next.row);
    if (next.row.version > entry.row.version && next.accessToken && next.row.accessTokenExpiresAt) return this.answer(caller, next, 'invalidated');
    if (gate.refusedMs > 0) throw this.limited(gate.refusedMs);
    throw this.unavailable(next.row);
  }

  /** Forgets a cached row (revoked, replaced by a re-sync or an import). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async read(caller: Caller, id: string, fresh = false): Promise<Cached> {
    const notFound = () => new AppError(ProblemCode.NotFound, 'No such connection.');
    if (!UUID.test(id)) throw notFound();
    const hit = this.cache.get(id);
    if (hit && !fresh && Date.now() - hit.readAt < CACHE_MS) {
      if (!canSeeTenant(caller, hit.row.tenantId)) throw notFound();
      this.metrics.cacheHits.inc();
      return hit;
    }
    let row: ConnectionRow | undefined;
    try {
      row = await this.load(id, caller.tenantIds ?? 'all');
    } catch (error) {
      // PostgreSQL is away: a token we hold in memory that is still valid may be served.
      if (hit && canSeeTenant(caller, hit.row.tenantId) && hit.row.accessTokenExpiresAt && hit.row.accessTokenExpiresAt.getTime() > Date.now()) return hit;
      throw error;
    }
    if (!row) throw notFound();
    return this.remember(row);
  }

  /**
   * One query for every concurrent miss of the same row under the same scope: when a hot
   * row's cache entry expires, the calls waiting on it (up to a relay's whole connection pool)
   * share one read instead of sending one each.
   */
  private load(id: string, scope: TenantScope): Promise<ConnectionRow | undefined> {
    const key = `${id} ${scope === 'all' ? '*' : scope.join(',')}`;
    let read = this.reading.get(key);
    if (!read) {
      read = this.repo.findById(id, scope).finally(() => this.reading.delete(key));
      this.reading.set(key, read);
    }
    return read;
  }

  private remember(row: ConnectionRow): Cached {
    const cached = this.cache.get(row.id);
    const entry: Cached = {
      row,
      // Opening costs a decryption: reuse the plaintext while the ciphertext is unchanged.
      accessToken:
        cached && cached.row.version === row.version && cached.row.accessToken?.equals(row.accessToken ?? Buffer.alloc(0)) ? cached.accessToken : this.sealer.openAccess(row),
      readAt: Date.now(),
    };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(row.id, entry);
    return entry;
  }

  private answer(caller: Caller, entry: Cached, outcome: string): AccessTokenResult {
    this.metrics.tokenReads.inc({ outcome });
    this.audit.record({ actor: caller.clientId, connectionId: entry.row.id, tenantId: entry.row.tenantId, action: 'token.read', outcome });
    return {
      connectionId: entry.row.id,
      accessToken: (entry.accessToken as Secret).reveal(),
      tokenType: 'Bearer',
      expiresAt: (entry.row.accessTokenExpiresAt as Date).toISOString(),
      scopes: entry.row.scopes,
    };
  }

  private assertActive(row: ConnectionRow): void {
    if (row.status === 'active') return;
    if (row.status === 'revoked') throw new AppError(ProblemCode.Gone, 'This connection was revoked; connect the user again.');
    const condition = row.condition ?? 'grant_revoked';
    throw new AppError(ProblemCode.ReauthRequired, `The ${row.platform} grant cannot be refreshed: ${condition}.`, {
      condition,
      audience: AUDIENCE[condition],
      incidentId: row.incidentId,
      connectionId: row.id,
    });
  }

  private gate(id: string): Gate {
    const forced = this.forced;
    if (!forced) return { refusedMs: 0 };
    const gate: Gate = { refusedMs: 0, admit: () => (gate.refusedMs = forced.take(id)) === 0 };
    return gate;
  }

  private limited(waitMs: number): AppError {
    this.metrics.tokenReads.inc({ outcome: 'limited' });
    return new AppError(
      ProblemCode.RateLimited,
      'This connection was refreshed on demand too often (FORCED_REFRESH_LIMIT); retry after the time in Retry-After.',
      {},
      Math.max(1, Math.ceil(waitMs / 1000)),
    );
  }

  private unavailable(row: ConnectionRow): AppError {
    const retryAfter = retryAfterSeconds(row.nextRefreshAt);
    const misconfigured = this.clients.state(row.platform) === 'misconfigured' || row.lastError?.kind === 'client_misconfigured';
    this.metrics.tokenReads.inc({ outcome: misconfigured ? 'client_misconfigured' : 'unavailable' });
    return new AppError(
      misconfigured ? ProblemCode.ClientMisconfigured : ProblemCode.UpstreamUnavailable,
      misconfigured ? `The service's ${row.platform} OAuth client is refused; an operator must fix it.` : `${row.platform} did not issue a new token; retry later.`,
      { connectionId: row.id },
      retryAfter,
    );
  }
}
