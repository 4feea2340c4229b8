import { Injectable, Logger } from '@nestjs/common';
import { GroupCommit, matchedById } from '../../common/group-commit';
import { newLeaseOwner } from '../../common/lease';
import { classify } from '../../platforms/classify';
import type { Classification } from '../../platforms/conditions';
import { OAuthProviders } from '../../platforms/oauth-registry';
import { ProviderFailure } from '../../platforms/platform';
import { AuditLog } from '../audit/audit-log';
import { ClientHealth } from './client-health';
import { ConnectionEvents } from '../connection-events';
import type { ConnectionRow, LastError } from '../connection.types';
import { ConnectionsMetrics } from '../connections.metrics';
import { BrokenMark, ConnectionState, TokenWrite } from '../connection-state';
import { ConnectionsRepository } from '../connections.repository';
import { RefreshCommits } from './refresh-commits';
import { RetryAlarm } from './retry-alarm';
import { backoffMs, nextRefreshAt } from './schedule';
import { ScopeDrift } from './scope-drift';
import { TokenSealer } from '../token-sealer';

/** Longer than the 10 s upstream timeout plus the commit, so a live holder never loses it. */
export const LEASE_MS = 30_000;
/** SPEC §5: a token call answers within 15 s. */
const WAIT_FOR_OTHERS_MS = 13_000;
const POLL_MS = 50;
/** SPEC §7: the rotated pair is committed; retried while the database is away. */
const COMMIT_RETRY_MS = 5 * 60_000;

/** What a caller needs from the row; a row meeting it is returned without a refresh. */
export interface Need {
  /** The access token must be valid until then. */
  validUntil?: Date;
  /** The row must be newer than this version (the caller's token was rejected). */
  newerThan?: number;
  /**
   * Asked once, right before this call would start an upstream refresh itself (not when it
   * shares one in flight, nor when another refresher's commit meets the need): false leaves
   * the row as it is (SPEC §5 `FORCED_REFRESH_LIMIT`).
   */
  admit?: () => boolean;
}

const meets = (row: ConnectionRow, need: Need) =>
  row.status !== 'active' ||
  ((need.newerThan === undefined || row.version > need.newerThan) &&
    (need.validUntil === undefined || (row.accessTokenExpiresAt !== null && row.accessTokenExpiresAt >= need.validUntil)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One upstream refresh per connection at a time: within the process concurrent callers
 * share one promise; across replicas the row's lease (`lease_owner`, `lease_until`,
 * committed before the upstream call) admits one refresher, and the others wait for its
 * commit and re-read. No transaction is held across the HTTP call: the lease is the lock.
 */
@Injectable()
export class Refresher {
  readonly owner = newLeaseOwner();
  private readonly log = new Logger('Refresher');
  private readonly inFlight = new Map<string, Promise<ConnectionRow | undefined>>();
  private readonly commits: RefreshCommits;
  /** Permanent failures, written by the dozen in a storm (one tenant's thousands at once), each row fenced on its own. */
  private readonly breaks: GroupCommit<BrokenMark, ConnectionRow | undefined>;

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly state: ConnectionState,
    private readonly providers: OAuthProviders,
    private readonly sealer: TokenSealer,
    private readonly clients: ClientHealth,
    private readonly metrics: ConnectionsMetrics,
    private readonly events: ConnectionEvents,
    private readonly drift: ScopeDrift,
    private readonly audit: AuditLog,
    /** Rung when a transient failure schedules a retry, so the sweep wakes for it (SPEC §3: within 60 s). */
    private readonly retryAlarm: RetryAlarm,
  ) {
    this.commits = new RefreshCommits(state, this.owner);
    this.breaks = new GroupCommit(matchedById((marks: BrokenMark[]) => state.markBrokenMany(this.owner, marks)));
  }

  /**
   * An admin incident's probe: one refresh of a blocked connection. Undefined when the row
   * is not blocked any more or another refresher holds it.
   */
  async probe(id: string): Promise<ConnectionRow | undefined> {
    const claimed = await this.repo.claim(id, this.owner, LEASE_MS, 'blocked');
    return claimed ? this.refreshClaimed(claimed) : undefined;
  }

  /**
   * Makes sure the connection meets `need`, refreshing upstream at most once across every
   * concurrent caller. Returns the committed row (which may still not meet the need when
   * the refresh failed or is backing off: the caller decides what to answer).
   * `justRead` is the row as the caller read it from the database during this call (never
   * a cached copy): the first look then needs no read of its own. The claim is fenced as
   * ever, so a row that changed since is caught there.
   */
  async ensure(id: string, need: Need, justRead?: ConnectionRow): Promise<ConnectionRow | undefined> {
    const running = this.inFlight.get(id);
    if (running) {
      await running.catch(() => undefined);
      return this.repo.findById(id, 'all');
    }
    const work = this.claimOrWait(id, need, justRead).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, work);
    return work;
  }

  private async claimOrWait(id: string, need: Need, justRead?: ConnectionRow): Promise<ConnectionRow | undefined> {
    const deadline = Date.now() + WAIT_FOR_OTHERS_MS;
    let waited = false;
    let admitted = need.admit === undefined;
    for (let read = justRead; ; read = undefined) {
      const current = read ?? (await this.repo.findById(id, 'all'));
      if (!current || meets(current, need)) return current;
      // Another refresher just committed while we waited, or the platform is backing off.
      if (waited && !current.leaseOwner) return current;
      if (current.failureCount > 0 && current.nextRefreshAt && current.nextRefreshAt.getTime() > Date.now()) return current;
      if (!current.leaseOwner || (current.leaseUntil && current.leaseUntil.getTime() < Date.now())) {
        if (!admitted) {
          if (need.admit && !need.admit()) return current;
          admitted = true;
        }
        const claimed = await this.repo.claim(id, this.owner, LEASE_MS);
        if (claimed) {
          if (claimed.version !== current.version && meets(claimed, need)) {
            await this.repo.releaseLease(id, this.owner);
            return this.repo.findById(id, 'all');
          }
          return this.refreshClaimed(claimed);
        }
      }
      if (Date.now() > deadline) return current;
      waited = true;
      await sleep(POLL_MS);
    }
  }

  /**
   * Refreshes a row whose lease this process holds; always releases the lease.
   * `upstreamDone` is called once, when the upstream call has settled (or if none is made):
   * the sweep bounds upstream calls in flight (REFRESH_CONCURRENCY), not the commits after them.
   */
  async refreshClaimed(row: ConnectionRow, upstreamDone?: () => void): Promise<ConnectionRow | undefined> {
    const started = process.hrtime.bigint();
    this.metrics.inFlight.inc();
    let upstreamOpen = true;
    const settled = () => {
      if (upstreamOpen) upstreamDone?.();
      upstreamOpen = false;
    };
    try {
      const refreshToken = this.sealer.openRefresh(row);
      if (!refreshToken) return this.fail(row, { kind: 'condition', condition: 'grant_revoked', audience: 'user', reason: 'no refresh token stored' }, 'no_refresh_token');
      const provider = this.providers.get(row.platform);
      let tokens;
      try {
        tokens = await provider.refresh({ refreshToken, tenantExternalId: row.tenantExternalId, userExternalId: row.userExternalId, scopes: row.scopes });
      } catch (error) {
        settled();
        const signals =
          error instanceof ProviderFailure
            ? error.signals
            : { platform: row.platform, operation: 'refresh' as const, network: 'connection' as const, description: String(error).slice(0, 200) };
        if (!(error instanceof ProviderFailure)) this.log.error(`unexpected refresh error for ${row.id}: ${String(error)}`);
        const code = String(signals.aadsts ?? signals.platformCode ?? signals.error ?? signals.httpStatus ?? signals.network ?? 'unknown');
        return this.fail(row, classify(signals, { refreshTokenExpiresAt: row.refreshTokenExpiresAt ?? undefined, now: new Date() }, provider.signals), code);
      }
      settled();
      await this.clients.reportWorking(row.platform);
      const now = new Date();
      const write: TokenWrite = this.sealer.seal(
        row.id,
        { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken, refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? row.refreshTokenExpiresAt ?? undefined },
        nextRefreshAt(now, tokens.accessTokenExpiresAt),
      );
      const committed = await this.commit(row, write);
      this.outcome(row, committed ? 'success' : 'superseded');
      if (!committed) return this.repo.findById(row.id, 'all');
      // Drift first: a probe whose refresh works but still lacks a required scope has healed nothing.
      const checked = await this.drift.check(committed);
      if (row.status === 'blocked' && checked.status === 'active') await this.events.recovered(checked);
      return checked;
    } finally {
      settled();
      this.metrics.inFlight.dec();
      this.metrics.refreshSeconds.observe({ platform: row.platform }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** The fenced write of a refresh result, retried while the database is unreachable. */
  private async commit(row: ConnectionRow, write: TokenWrite): Promise<ConnectionRow | undefined> {
    const until = Date.now() + COMMIT_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const committed = await this.commits.commit({ id: row.id, version: row.version, write, degradedAt: row.degradedAt });
        if (!committed) this.log.warn(`refresh of ${row.id} lost its fence (a newer write exists); its result is discarded`);
        return committed;
      } catch (error) {
        if (Date.now() > until) throw error;
        this.log.warn(`committing the refresh of ${row.id} failed (${(error as Error).message}); retrying`);
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
    }
  }

  private async fail(row: ConnectionRow, classification: Classification, code: string): Promise<ConnectionRow | undefined> {
    const now = new Date();
    const error: LastError = { kind: classification.kind, code, message: classification.reason.slice(0, 300), at: now.toISOString() };
    if (classification.kind !== 'condition') {
      if (classification.kind === 'client_misconfigured') await this.clients.reportMisconfigured(row.platform, code);
      this.outcome(row, classification.kind, code);
      const retryAfter = classification.kind === 'transient' ? classification.retryAfterMs : undefined;
      const next = new Date(now.getTime() + backoffMs(row.failureCount + 1, retryAfter));
      // Up to a second of clock skew either way: PostgreSQL's clock decides, this only spares the transaction.
      const mayDegrade = classification.kind === 'transient' && !row.degradedAt && (row.accessTokenExpiresAt?.getTime() ?? 0) <= now.getTime() + 1000;
      const recorded = await this.state.recordTransient(this.owner, row.id, error, next, mayDegrade);
      if (recorded && classification.kind === 'transient') this.retryAlarm.ring(next);
      return recorded ?? this.repo.findById(row.id, 'all');
    }
    let { condition, audience } = classification;
    // The refresh token was probably rotated by the cut-off refresh and is now lost.
    if (row.refreshCutoff) ({ condition, audience } = { condition: 'grant_revoked', audience: 'user' });
    const status = audience === 'admin' ? 'blocked' : 'needs_reauth';
    // The write is fenced on the version this refresh read: if another refresh or a re-sync
    // committed meanwhile, its result wins, and our rotated-away token failing is no incident.
    const broken = await this.breaks.add({ id: row.id, version: row.version, status, error: { ...error, condition, audience } });
    if (!broken) {
      await this.repo.releaseLease(row.id, this.owner);
      this.outcome(row, 'superseded');
      return this.repo.findById(row.id, 'all');
    }
    if (row.refreshCutoff) this.metrics.rotationLost.inc({ platform: row.platform });
    if (classification.unclassified) this.metrics.unclassified.inc({ platform: row.platform, code: classification.unclassified.slice(0, 64) });
    this.outcome(row, condition, code);
    // Heal opens (or joins) the incident; the caller gets the row that names it.
    const incidentId = await this.events.broken(broken);
    if (incidentId) return { ...broken, incidentId };
    // Heal's own pass over broken rows can attach the incident first: then the row names it.
    return (await this.repo.findById(broken.id, 'all')) ?? broken;
  }

  /** Every upstream refresh ends here once: counted, and written to the audit log (never a token). */
  private outcome(row: ConnectionRow, outcome: string, code?: string): void {
    this.metrics.refreshes.inc({ platform: row.platform, outcome });
    this.audit.record({ actor: 'refresher', connectionId: row.id, tenantId: row.tenantId, action: 'token.refresh', outcome, ...(code ? { detail: { code } } : {}) });
  }
}
