/** The typed control surface of the sandbox, and its HTTP mirror under /_sandbox/... */
import { ServerResponse } from 'node:http';
import { isRecord, Req, sendJson } from './http';
import { PlatformModule } from './platform';
import { mintSlackBotToken } from './slack';
import { PlatformState } from './state';
import {
  Failure,
  FailureSelector,
  GrantInput,
  MintedGrant,
  PLATFORMS,
  ReceivedMessage,
  RevokedToken,
  ReuseEvent,
  SandboxPlatform,
  SandboxUser,
  TokenCallFilter,
  TokenLifetimes,
  UserInput,
} from './types';

export class SandboxControl {
  constructor(
    private readonly states: Record<SandboxPlatform, PlatformState>,
    private readonly modules: Record<SandboxPlatform, PlatformModule>,
  ) {}

  addUser(platform: SandboxPlatform, user: UserInput): SandboxUser {
    return this.states[platform].addUser(user);
  }

  signIn(platform: SandboxPlatform, userExternalId: string): void {
    if (!this.states[platform].users.has(userExternalId)) throw new Error(`sandbox: unknown ${platform} user ${userExternalId}; addUser first`);
    this.states[platform].signedIn = userExternalId;
  }

  denyConsent(platform: SandboxPlatform, deny: boolean): void {
    this.states[platform].denyConsent = deny;
  }

  mintGrant(platform: SandboxPlatform, grant: GrantInput): MintedGrant {
    const state = this.states[platform];
    return this.modules[platform].mint(state.userFor(grant.tenantExternalId, grant.userExternalId), grant.scopes ?? []);
  }

  /** A Slack workspace bot token (what a tenant's `bot.botToken` holds). */
  slackBotToken(teamId: string): string {
    return mintSlackBotToken(this.states.slack, teamId);
  }

  setTokenLifetimes(platform: SandboxPlatform, lifetimes: TokenLifetimes): void {
    const state = this.states[platform];
    if (lifetimes.accessTokenSeconds !== undefined) state.accessSeconds = lifetimes.accessTokenSeconds;
    if (lifetimes.refreshTokenSeconds !== undefined) state.refreshSeconds = lifetimes.refreshTokenSeconds;
  }

  setLatency(platform: SandboxPlatform, ms: number): void {
    this.states[platform].latencyMs = ms;
  }

  failRefreshes(platform: SandboxPlatform, selector: FailureSelector, failure: Failure, times?: number): void {
    this.states[platform].armRefreshFailure(selector, failure, times);
  }

  /** Code exchanges (`authorization_code` grants) answer `failure`, for every code. */
  failExchanges(platform: SandboxPlatform, failure: Failure, times?: number): void {
    this.states[platform].armExchangeFailure(failure, times);
  }

  failMessages(platform: SandboxPlatform, failure: Failure, times?: number): void {
    this.states[platform].armMessageFailure(failure, times);
  }

  clearFailures(platform?: SandboxPlatform): void {
    for (const p of platform ? [platform] : PLATFORMS) this.states[p].clearFailures();
  }

  tokenCalls(platform: SandboxPlatform, filter: TokenCallFilter = {}): number {
    return this.states[platform].tokenCalls(filter);
  }

  reuseEvents(platform: SandboxPlatform): ReuseEvent[] {
    return [...this.states[platform].reuse];
  }

  /** DMs received; the recipient compares case-insensitively (Zoom JIDs are lower-case). */
  messages(platform: SandboxPlatform, recipient?: string): ReceivedMessage[] {
    const all = this.states[platform].messages;
    if (recipient === undefined) return [...all];
    const wanted = recipient.toLowerCase();
    return all.filter((m) => m.recipient.toLowerCase() === wanted);
  }

  /**
   * Ends the user's access tokens before their expiry, as a platform may (Zoom answers 401 code
   * 124 "Invalid access token." for them); refresh tokens stay valid. Answers how many ended.
   */
  revokeAccessTokens(platform: SandboxPlatform, userExternalId: string): number {
    const tokens = this.states[platform].accessTokens;
    const ended = [...tokens].filter(([, r]) => r.user.userExternalId === userExternalId).map(([t]) => t);
    for (const t of ended) tokens.delete(t);
    return ended.length;
  }

  revokedTokens(platform: SandboxPlatform): RevokedToken[] {
    return [...this.states[platform].revoked];
  }

  reset(): void {
    for (const p of PLATFORMS) this.states[p].reset();
  }
}

function isPlatform(value: string): value is SandboxPlatform {
  return (PLATFORMS as readonly string[]).includes(value);
}

function isFailure(value: unknown): value is Failure {
  return isRecord(value) && ('status' in value || 'delayMs' in value || 'hang' in value || 'reset' in value);
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function stringField(body: Record<string, unknown>, key: string): string | undefined {
  return typeof body[key] === 'string' ? body[key] : undefined;
}

/** Routes `/_sandbox/<platform>/<action>` (and `/_sandbox/reset`) onto the typed control. */
export function controlHandler(control: SandboxControl): (req: Req, res: ServerResponse) => Promise<boolean> {
  // eslint-disable-next-line @typescript-eslint/require-await -- a Handler returns a promise; the control answers at once.
  return async (req, res) => {
    if (!req.path.startsWith('/_sandbox/')) return false;
    const [, , platform, action] = req.path.split('/');
    const body = isRecord(req.json) ? req.json : {};
    const ok = (result: unknown = { ok: true }): true => (sendJson(res, 200, result), true);
    const bad = (message: string): true => (sendJson(res, 400, { error: message }), true);
    if (platform === 'reset' && req.method === 'POST') return (control.reset(), ok());
    if (platform === 'failures' && req.method === 'DELETE') {
      const only = req.query.get('platform');
      if (only !== null && !isPlatform(only)) return bad(`unknown platform ${only}`);
      return (control.clearFailures(only ?? undefined), ok());
    }
    if (!isPlatform(platform)) return bad(`unknown platform ${platform}`);
    const user = stringField(body, 'userExternalId');
    const tenant = stringField(body, 'tenantExternalId');
    const times = optionalNumber(body.times);
    switch (`${req.method} ${action}`) {
      case 'POST users':
        if (!user || !tenant) return bad('userExternalId and tenantExternalId are required');
        return ok(control.addUser(platform, { userExternalId: user, tenantExternalId: tenant, email: stringField(body, 'email'), displayName: stringField(body, 'displayName') }));
      case 'POST sign-in':
        if (!user) return bad('userExternalId is required');
        return (control.signIn(platform, user), ok());
      case 'POST deny-consent':
        return (control.denyConsent(platform, body.deny !== false), ok());
      case 'POST grants': {
        if (!user || !tenant) return bad('userExternalId and tenantExternalId are required');
        const scopes = Array.isArray(body.scopes) ? body.scopes.filter((s): s is string => typeof s === 'string') : undefined;
        return ok(control.mintGrant(platform, { userExternalId: user, tenantExternalId: tenant, scopes }));
      }
      case 'POST lifetimes':
        return (
          control.setTokenLifetimes(platform, { accessTokenSeconds: optionalNumber(body.accessTokenSeconds), refreshTokenSeconds: optionalNumber(body.refreshTokenSeconds) }),
          ok()
        );
      case 'POST latency':
        return (control.setLatency(platform, optionalNumber(body.ms) ?? 0), ok());
      case 'POST refresh-failures': {
        if (!isFailure(body.failure)) return bad('failure must be {status,body,headers?} | {delayMs} | {hang:true} | {reset:true}');
        const selector = isRecord(body.selector) ? body.selector : {};
        return (
          control.failRefreshes(
            platform,
            { userExternalId: stringField(selector, 'userExternalId'), tenantExternalId: stringField(selector, 'tenantExternalId') },
            body.failure,
            times,
          ),
          ok()
        );
      }
      case 'POST exchange-failures':
        if (!isFailure(body.failure)) return bad('failure must be {status,body,headers?} | {delayMs} | {hang:true} | {reset:true}');
        return (control.failExchanges(platform, body.failure, times), ok());
      case 'POST message-failures':
        if (!isFailure(body.failure)) return bad('failure must be {status,body,headers?} | {delayMs} | {hang:true} | {reset:true}');
        return (control.failMessages(platform, body.failure, times), ok());
      case 'GET token-calls':
        return ok({ count: control.tokenCalls(platform, { userExternalId: req.query.get('userExternalId') ?? undefined, grantType: req.query.get('grantType') ?? undefined }) });
      case 'GET reuse-events':
        return ok({ items: control.reuseEvents(platform) });
      case 'GET messages':
        return ok({ items: control.messages(platform, req.query.get('recipient') ?? undefined) });
      case 'GET revoked-tokens':
        return ok({ items: control.revokedTokens(platform) });
      case 'POST slack-bot-token':
        if (platform !== 'slack' || !tenant) return bad('slack only; tenantExternalId is required');
        return ok({ botToken: control.slackBotToken(tenant) });
      default:
        return bad(`unknown control ${req.method} ${req.path}`);
    }
  };
}
