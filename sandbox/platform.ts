/** What every fake platform module hands to the sandbox: its routes and a cheap grant minter. */
import { ServerResponse } from 'node:http';
import { Handler, playFailure, sleep } from './http';
import { PlatformState } from './state';
import { MintedGrant, SandboxUser } from './types';

export interface SandboxCredentials {
  microsoft: { clientId: string; clientSecret: string; botAppId: string; botAppSecret: string };
  slack: { clientId: string; clientSecret: string; appId: string };
  webex: { clientId: string; clientSecret: string; botToken: string };
  zoom: { clientId: string; clientSecret: string; botJid: string };
}

export interface PlatformContext {
  state: PlatformState;
  credentials: SandboxCredentials;
  /** The server's own origin, known only after it listens. */
  origin: () => string;
}

export interface PlatformModule {
  handler: Handler;
  mint(user: SandboxUser, scopes: string[]): MintedGrant;
}

/**
 * Shared start of every token-endpoint call: count it, apply latency and, for refresh and
 * authorization-code grants, an armed failure. Returns true when the failure already settled
 * the response.
 */
export async function tokenPreamble(state: PlatformState, res: ServerResponse, grantType: string, user: SandboxUser | undefined): Promise<boolean> {
  state.countCall(grantType, user?.userExternalId);
  if (state.latencyMs > 0) await sleep(state.latencyMs);
  const failure = grantType === 'refresh_token' ? state.takeRefreshFailure(user) : grantType === 'authorization_code' ? state.takeExchangeFailure() : undefined;
  return failure ? playFailure(res, failure) : false;
}

/** Bot sends share one failure switch per platform (outbox retry tests). */
export async function messagePreamble(state: PlatformState, res: ServerResponse): Promise<boolean> {
  const failure = state.takeMessageFailure();
  return failure ? playFailure(res, failure) : false;
}

/** Who the fake browser approves as: login_hint wins, then the signed-in user. */
export function browserUser(state: PlatformState, loginHint: string | null): SandboxUser | undefined {
  if (loginHint) {
    const hinted = state.findUser(loginHint);
    if (hinted) return hinted;
  }
  return state.signedIn ? state.users.get(state.signedIn) : undefined;
}

export function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}
