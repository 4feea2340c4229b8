/** In-memory state of one fake platform: directory, grants, codes, failures and observations. */
import { createHash, randomBytes } from 'node:crypto';
import { Failure, FailureSelector, ReceivedMessage, RevokedToken, ReuseEvent, SandboxPlatform, SandboxUser, TokenCallFilter, UserInput } from './types';

/** Entropy is drawn in blocks: minting 100,000 grants must stay cheap. */
let pool = randomBytes(0);
let poolOffset = 0;
export function randomToken(bytes = 24): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(64 * 1024);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return slice.toString('base64url');
}

export function randomDigits(length: number): string {
  let out = '';
  while (out.length < length) out += randomBytes(8).readBigUInt64BE().toString().slice(1);
  return out.slice(0, length);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export interface TokenRecord {
  user: SandboxUser;
  scopes: string[];
  expiresAt: number;
}

export interface RefreshRecord extends TokenRecord {
  /** Set when a newer refresh token replaced this one (rotation); the old one is then "reused" if presented. */
  supersededAt?: number;
  issuedAt: number;
}

export interface CodeRecord {
  user: SandboxUser;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  nonce?: string;
  /** Slack's bot `scope` (the user scopes go in `scopes`). */
  botScopes?: string[];
  expiresAt: number;
  used: boolean;
}

interface ArmedFailure {
  selector: FailureSelector;
  failure: Failure;
  remaining: number | undefined;
}

/** Codes live 10 minutes at most on every platform (Microsoft documents 10, Zoom 5, Slack 10). */
export const CODE_LIFETIME_MS = 5 * 60_000;

export class PlatformState {
  users = new Map<string, SandboxUser>();
  signedIn: string | undefined;
  denyConsent = false;
  accessSeconds: number;
  refreshSeconds: number | undefined;
  latencyMs = 0;
  accessTokens = new Map<string, TokenRecord>();
  refreshTokens = new Map<string, RefreshRecord>();
  codes = new Map<string, CodeRecord>();
  /** Bot/app tokens (Teams bot, Slack bot, Zoom chatbot) by token, with the tenant they act for. */
  botTokens = new Map<string, { tenantExternalId: string | undefined; expiresAt: number }>();
  refreshFailures: ArmedFailure[] = [];
  exchangeFailures: ArmedFailure[] = [];
  messageFailures: ArmedFailure[] = [];
  calls = new Map<string, number>();
  reuse: ReuseEvent[] = [];
  messages: ReceivedMessage[] = [];
  revoked: RevokedToken[] = [];

  constructor(
    readonly platform: SandboxPlatform,
    private readonly defaults: { accessSeconds: number; refreshSeconds: number | undefined; latencyMs: number },
  ) {
    this.accessSeconds = defaults.accessSeconds;
    this.refreshSeconds = defaults.refreshSeconds;
    this.latencyMs = defaults.latencyMs;
  }

  reset(): void {
    const fresh = new PlatformState(this.platform, this.defaults);
    Object.assign(this, fresh);
  }

  addUser(input: UserInput): SandboxUser {
    const user: SandboxUser = {
      tenantExternalId: input.tenantExternalId,
      userExternalId: input.userExternalId,
      email: input.email ?? `${input.userExternalId.toLowerCase()}@example.test`,
      displayName: input.displayName ?? `User ${input.userExternalId}`,
    };
    this.users.set(user.userExternalId, user);
    return user;
  }

  /** Finds a user by id or, case-insensitively, by e-mail (login_hint, toPersonEmail). */
  findUser(idOrEmail: string): SandboxUser | undefined {
    const direct = this.users.get(idOrEmail);
    if (direct) return direct;
    const lower = idOrEmail.toLowerCase();
    for (const user of this.users.values()) {
      if (user.email.toLowerCase() === lower || user.userExternalId.toLowerCase() === lower) return user;
    }
    return undefined;
  }

  /** A grant for someone not in the directory adds them: benchmarks import users by the thousand. */
  userFor(tenantExternalId: string, userExternalId: string): SandboxUser {
    const known = this.users.get(userExternalId);
    return known && known.tenantExternalId === tenantExternalId ? known : this.addUser({ tenantExternalId, userExternalId });
  }

  issueAccess(user: SandboxUser, scopes: string[], prefix: string, token = prefix + randomToken()): string {
    this.accessTokens.set(token, { user, scopes, expiresAt: Date.now() + this.accessSeconds * 1000 });
    return token;
  }

  issueRefresh(user: SandboxUser, scopes: string[], prefix: string): string {
    const token = prefix + randomToken(32);
    const now = Date.now();
    const expiresAt = this.refreshSeconds === undefined ? Number.POSITIVE_INFINITY : now + this.refreshSeconds * 1000;
    this.refreshTokens.set(token, { user, scopes, expiresAt, issuedAt: now });
    return token;
  }

  issueBot(tenantExternalId: string | undefined, prefix: string): string {
    const token = prefix + randomToken();
    this.botTokens.set(token, { tenantExternalId, expiresAt: Date.now() + this.accessSeconds * 1000 });
    return token;
  }

  liveBot(token: string | undefined): { tenantExternalId: string | undefined } | undefined {
    if (!token) return undefined;
    const record = this.botTokens.get(token);
    return record && record.expiresAt > Date.now() ? record : undefined;
  }

  /** The access-token record behind a Bearer header, if it is live. */
  liveAccess(token: string | undefined): TokenRecord | undefined {
    if (!token) return undefined;
    const record = this.accessTokens.get(token);
    return record && record.expiresAt > Date.now() ? record : undefined;
  }

  countCall(grantType: string, userExternalId: string | undefined): void {
    const key = `${grantType}\u0000${userExternalId ?? ''}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  tokenCalls(filter: TokenCallFilter = {}): number {
    let total = 0;
    for (const [key, count] of this.calls) {
      const [grant, user] = key.split('\u0000');
      if (filter.grantType !== undefined && filter.grantType !== grant) continue;
      if (filter.userExternalId !== undefined && filter.userExternalId !== user) continue;
      total += count;
    }
    return total;
  }

  recordReuse(user: SandboxUser): void {
    this.reuse.push({ userExternalId: user.userExternalId, tenantExternalId: user.tenantExternalId, at: new Date() });
  }

  armRefreshFailure(selector: FailureSelector, failure: Failure, times: number | undefined): void {
    this.refreshFailures.push({ selector, failure, remaining: times });
  }

  armExchangeFailure(failure: Failure, times: number | undefined): void {
    this.exchangeFailures.push({ selector: {}, failure, remaining: times });
  }

  armMessageFailure(failure: Failure, times: number | undefined): void {
    this.messageFailures.push({ selector: {}, failure, remaining: times });
  }

  /** Consumes one matching refresh failure; an unknown refresh token only matches an empty selector. */
  takeRefreshFailure(user: SandboxUser | undefined): Failure | undefined {
    return take(this.refreshFailures, (s) => {
      if (s.userExternalId !== undefined && s.userExternalId !== user?.userExternalId) return false;
      if (s.tenantExternalId !== undefined && s.tenantExternalId !== user?.tenantExternalId) return false;
      return true;
    });
  }

  takeExchangeFailure(): Failure | undefined {
    return take(this.exchangeFailures, () => true);
  }

  takeMessageFailure(): Failure | undefined {
    return take(this.messageFailures, () => true);
  }

  clearFailures(): void {
    this.refreshFailures = [];
    this.exchangeFailures = [];
    this.messageFailures = [];
  }
}

function take(list: ArmedFailure[], matches: (s: FailureSelector) => boolean): Failure | undefined {
  const index = list.findIndex((armed) => matches(armed.selector));
  if (index < 0) return undefined;
  const armed = list[index];
  if (armed.remaining !== undefined) {
    armed.remaining -= 1;
    if (armed.remaining <= 0) list.splice(index, 1);
  }
  return armed.failure;
}
