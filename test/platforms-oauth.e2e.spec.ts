import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Sandbox, startSandbox } from '../sandbox';
import type { AppConfig, BuiltinPlatform as Platform } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { classify } from '../src/platforms/classify';
import { MicrosoftOAuth } from '../src/platforms/microsoft/microsoft-oauth';
import { OAuthProvider, ProviderFailure, TokenSet } from '../src/platforms/platform';
import { missingScopes } from '../src/platforms/scope-catalog';
import { SlackOAuth } from '../src/platforms/slack/slack-oauth';
import { webexOAuth } from '../src/platforms/webex/webex-provider';
import { zoomOAuth } from '../src/platforms/zoom/zoom-provider';
import { Secret } from '../src/vault/secret';

/** The four adapters end to end against the sandbox, through the real SDKs and HTTP. */

const PUBLIC_BASE_URL = 'http://localhost:3000';
const SECRET_VARIABLE: Record<Platform, string> = {
  microsoft: 'MICROSOFT_CLIENT_SECRET',
  slack: 'SLACK_CLIENT_SECRET',
  webex: 'WEBEX_CLIENT_SECRET',
  zoom: 'ZOOM_CLIENT_SECRET',
};

interface Case {
  platform: Platform;
  make: (config: AppConfig, options?: { timeoutMs?: number }) => OAuthProvider;
  user: () => { tenantExternalId: string; userExternalId: string };
  /** Does revoke end the grant upstream (else it is a documented no-op)? */
  revokes: boolean;
}

const CASES: Case[] = [
  { platform: 'microsoft', make: (c, o) => new MicrosoftOAuth(c, o), user: () => ({ tenantExternalId: randomUUID(), userExternalId: randomUUID() }), revokes: false },
  { platform: 'slack', make: (c, o) => new SlackOAuth(c, o), user: () => ({ tenantExternalId: `T0${digits()}`, userExternalId: `U0${digits()}` }), revokes: true },
  { platform: 'webex', make: (c, o) => webexOAuth(c, o), user: () => ({ tenantExternalId: randomUUID(), userExternalId: randomUUID() }), revokes: false },
  {
    platform: 'zoom',
    make: (c, o) => zoomOAuth(c, o),
    user: () => ({ tenantExternalId: randomBytes(8).toString('hex'), userExternalId: randomBytes(8).toString('hex') }),
    revokes: true,
  },
];

function digits(): string {
  return String(randomBytes(4).readUInt32BE()).padStart(10, '0');
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderFailure);
  return error as ProviderFailure;
}

describe.each(CASES)('$platform OAuth adapter', ({ platform, make, user: newUser, revokes }) => {
  let sandbox: Sandbox;
  let config: AppConfig;
  let provider: OAuthProvider;
  let user: { tenantExternalId: string; userExternalId: string };
  const redirectUri = `${PUBLIC_BASE_URL}/oauth/${platform}/callback`;

  beforeAll(async () => {
    sandbox = await startSandbox();
    config = loadConfig({ ...sandbox.env, PUBLIC_BASE_URL });
    provider = make(config);
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    sandbox.control.reset();
    user = newUser();
    sandbox.control.addUser(platform, { ...user, email: `${user.userExternalId.toLowerCase()}@example.test`, displayName: 'Ada Lovelace' });
    sandbox.control.signIn(platform, user.userExternalId);
  });

  /** Authorize URL → the sandbox's auto-approving consent page → code exchange. */
  async function connect(): Promise<TokenSet> {
    const { verifier, challenge } = pkce();
    const state = randomUUID();
    const url = provider.authorizeUrl({ state, codeChallenge: challenge, redirectUri, tenantExternalId: platform === 'microsoft' ? user.tenantExternalId : undefined });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const back = new URL(response.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe(state);
    const code = back.searchParams.get('code') ?? '';
    const { tokens, identity } = await provider.exchangeCode({
      code,
      codeVerifier: verifier,
      redirectUri,
      tenantExternalId: platform === 'microsoft' ? user.tenantExternalId : undefined,
    });
    expect(identity).toMatchObject(user);
    expect(tokens.refreshToken).toBeInstanceOf(Secret);
    expect(tokens.accessTokenExpiresAt.getTime()).toBeGreaterThan(Date.now());
    // A full grant, as the platform words it, is not scope drift.
    expect(missingScopes(platform, tokens.scopes)).toEqual([]);
    return tokens;
  }

  function refreshWith(tokens: TokenSet, adapter = provider): Promise<TokenSet> {
    return adapter.refresh({ refreshToken: tokens.refreshToken ?? new Secret(''), ...user, scopes: tokens.scopes });
  }

  it('is enabled by its client id and secret, and asks for the catalog scopes', () => {
    expect(provider.enabled).toBe(true);
    expect(make(loadConfig({})).enabled).toBe(false);
    expect(provider.requiredScopes.length).toBeGreaterThan(0);
    const url = new URL(provider.authorizeUrl({ state: 's', codeChallenge: 'c', redirectUri }));
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  it('connects, refreshes five times storing every rotated refresh token, with no reuse', async () => {
    let tokens = await connect();
    for (let i = 0; i < 5; i++) {
      const next = await refreshWith(tokens);
      expect(next.accessToken.equals(tokens.accessToken)).toBe(false);
      // Keep the current refresh token when the platform did not send one (TokenSet contract).
      tokens = { ...next, refreshToken: next.refreshToken ?? tokens.refreshToken };
    }
    expect(sandbox.control.tokenCalls(platform, { userExternalId: user.userExternalId, grantType: 'refresh_token' })).toBe(5);
    expect(sandbox.control.reuseEvents(platform)).toEqual([]);
    if (platform === 'webex') expect(tokens.refreshTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 80 * 86_400_000);
  });

  it(revokes ? 'revokes the grant upstream' : 'resolves revoke as a documented no-op', async () => {
    const tokens = await connect();
    await provider.revoke({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
    if (!revokes) return expect(sandbox.control.revokedTokens(platform)).toEqual([]);
    expect(sandbox.control.revokedTokens(platform)).toHaveLength(1);
    const failure = await failureOf(refreshWith(tokens));
    expect(classify(failure.signals, { now: new Date() })).toMatchObject({ kind: 'condition', condition: 'grant_revoked' });
    // Revoking again finds nothing to revoke and still resolves.
    await provider.revoke({ accessToken: tokens.accessToken });
  });

  it('reports a wrong client secret as client_misconfigured', async () => {
    const tokens = await connect();
    const broken = make(loadConfig({ ...sandbox.env, [SECRET_VARIABLE[platform]]: 'not-the-secret' }));
    const failure = await failureOf(refreshWith(tokens, broken));
    expect(failure.signals).toMatchObject({ platform, operation: 'refresh' });
    expect(classify(failure.signals, { now: new Date() })).toMatchObject({ kind: 'client_misconfigured' });
    expect(failure.message).not.toContain(tokens.refreshToken?.reveal() ?? '-');
  });

  it('gives up on a hung token endpoint at its timeout, as a transient failure', async () => {
    const tokens = await connect();
    const impatient = make(config, { timeoutMs: 300 });
    sandbox.control.failRefreshes(platform, { userExternalId: user.userExternalId }, { hang: true }, 1);
    const started = Date.now();
    const failure = await failureOf(refreshWith(tokens, impatient));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(failure.signals.network).toBe('timeout');
    expect(classify(failure.signals, { now: new Date() })).toMatchObject({ kind: 'transient' });
  });

  it('does not redeem a code without the right PKCE verifier', async () => {
    const { challenge } = pkce();
    const url = provider.authorizeUrl({ state: 's', codeChallenge: challenge, redirectUri });
    const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location') ?? '');
    const failure = await failureOf(provider.exchangeCode({ code: back.searchParams.get('code') ?? '', codeVerifier: pkce().verifier, redirectUri }));
    expect(failure.signals.operation).toBe('exchange');
  });
});
