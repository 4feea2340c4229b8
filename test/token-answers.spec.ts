import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sandbox, startSandbox } from '../sandbox';
import type { AppConfig, BuiltinPlatform as Platform } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { MicrosoftOAuth } from '../src/platforms/microsoft/microsoft-oauth';
import type { OAuthProvider, TokenSet } from '../src/platforms/platform';
import { missingScopes } from '../src/platforms/scope-catalog';
import { SlackOAuth } from '../src/platforms/slack/slack-oauth';
import { webexOAuth } from '../src/platforms/webex/webex-provider';
import { zoomOAuth } from '../src/platforms/zoom/zoom-provider';
import { Secret } from '../src/vault/secret';
import { shapeOf, TOKEN_ANSWERS } from './fixtures/token-answers';

/**
 * SPEC §8's scopes-granted rule and each platform's documented token answer
 * (test/fixtures/token-answers.ts): (a) every adapter reads the documented answers, with and
 * without `scope`, through its public methods against a tiny real HTTP server; (b) the sandbox
 * sends exactly the documented members.
 */

const REDIRECT = 'http://localhost:3000/oauth/callback';
const STORED = ['stored:one', 'stored:two'];

interface Upstream {
  url: string;
  /** What the token endpoint answers next, by grant type. */
  answers: { exchange: Record<string, unknown>; refresh: Record<string, unknown> };
  close(): Promise<void>;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A platform stand-in on 127.0.0.1: the token endpoint answers `answers`, identity calls a fixed user. */
async function startUpstream(): Promise<Upstream> {
  const answers = { exchange: {}, refresh: {} };
  const send = (res: ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method === 'POST' && /\/(access_token|oauth\/token|oauth\.v2\.access|oauth2\/v2\.0\/token)$/.test(path)) {
        return send(res, form.get('grant_type') === 'refresh_token' ? answers.refresh : answers.exchange);
      }
      if (path === '/v1/people/me') return send(res, { id: 'person-1', orgId: 'org-1', emails: ['ada@example.test'], displayName: 'Ada' });
      if (path === '/v2/users/me') return send(res, { id: 'zoom-user-1', account_id: 'zoom-account-1', email: 'ada@example.test' });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function configFor(platform: Platform, url: string): AppConfig {
  const env: Record<Platform, Record<string, string>> = {
    webex: { WEBEX_CLIENT_ID: 'cid', WEBEX_CLIENT_SECRET: 'secret', WEBEX_API_URL: `${url}/v1` },
    zoom: { ZOOM_CLIENT_ID: 'cid', ZOOM_CLIENT_SECRET: 'secret', ZOOM_OAUTH_URL: url, ZOOM_API_URL: `${url}/v2` },
    slack: { SLACK_CLIENT_ID: 'cid', SLACK_CLIENT_SECRET: 'secret', SLACK_API_URL: `${url}/api/` },
    microsoft: { MICROSOFT_CLIENT_ID: 'cid', MICROSOFT_CLIENT_SECRET: 'secret', MICROSOFT_AUTHORITY_HOST: url },
  };
  return loadConfig(env[platform]);
}

const ADAPTERS: Record<Platform, (config: AppConfig) => OAuthProvider> = {
  webex: (c) => webexOAuth(c),
  zoom: (c) => zoomOAuth(c),
  slack: (c) => new SlackOAuth(c),
  microsoft: (c) => new MicrosoftOAuth(c),
};

/** The documented answers made usable: Microsoft's ID token must decode to a user for MSAL. */
function documented(platform: Platform, kind: 'exchange' | 'refresh'): Record<string, unknown> {
  const answer = structuredClone(TOKEN_ANSWERS[platform][kind]);
  if (platform === 'microsoft') {
    const now = Math.floor(Date.now() / 1000);
    const claims = { aud: 'cid', iss: 'https://login.example/tid-1/v2.0', iat: now, nbf: now, exp: now + 3600, oid: 'oid-1', tid: 'tid-1', sub: 'sub-1', name: 'Ada' };
    answer.id_token = `${b64url({ typ: 'JWT', alg: 'RS256' })}.${b64url(claims)}.FAKE`;
  }
  return answer;
}

/** The answer's own scope member (Slack's user token keeps it in `authed_user`). */
function scopeMember(platform: Platform, kind: 'exchange' | 'refresh', answer: Record<string, unknown>): string | undefined {
  const holder = platform === 'slack' && kind === 'exchange' ? (answer.authed_user as Record<string, unknown>) : answer;
  return typeof holder.scope === 'string' ? holder.scope : undefined;
}

function withoutScope(platform: Platform, kind: 'exchange' | 'refresh', answer: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(answer);
  const holder = platform === 'slack' && kind === 'exchange' ? (copy.authed_user as Record<string, unknown>) : copy;
  delete holder.scope;
  return copy;
}

function withScope(platform: Platform, kind: 'exchange' | 'refresh', answer: Record<string, unknown>, scope: string): Record<string, unknown> {
  const copy = structuredClone(answer);
  const holder = platform === 'slack' && kind === 'exchange' ? (copy.authed_user as Record<string, unknown>) : copy;
  holder.scope = scope;
  return copy;
}

describe.each(['webex', 'zoom', 'slack', 'microsoft'] as const)('%s adapter reads its documented token answers', (platform) => {
  let upstream: Upstream;
  let adapter: OAuthProvider;
  beforeAll(async () => {
    upstream = await startUpstream();
    adapter = ADAPTERS[platform](configFor(platform, upstream.url));
  });
  afterAll(() => upstream.close());

  const exchange = (): Promise<{ tokens: TokenSet }> =>
    adapter.exchangeCode({ code: 'code-1', codeVerifier: 'v'.repeat(64), redirectUri: REDIRECT, tenantExternalId: platform === 'microsoft' ? 'tid-1' : undefined });
  const refresh = (): Promise<TokenSet> => adapter.refresh({ refreshToken: new Secret('FAKE-refresh'), tenantExternalId: 'tid-1', userExternalId: 'oid-1', scopes: STORED });

  it('code exchange: the documented answer as a token set', async () => {
    const answer = documented(platform, 'exchange');
    upstream.answers.exchange = answer;
    const before = Date.now();
    const { tokens } = await exchange();
    const access = platform === 'slack' ? (answer.authed_user as Record<string, unknown>).access_token : answer.access_token;
    expect(tokens.accessToken.reveal()).toBe(access);
    expect(tokens.refreshToken).toBeInstanceOf(Secret);
    expect(tokens.accessTokenExpiresAt.getTime()).toBeGreaterThan(before);
    const scope = scopeMember(platform, 'exchange', answer);
    if (scope === undefined) {
      // Webex: no scope member, so the grant is what the authorize request asked for.
      expect(tokens).toMatchObject({ scopes: [...adapter.requiredScopes], scopesStated: false });
    } else {
      expect(tokens).toMatchObject({ scopes: scope.split(/[\s,]+/), scopesStated: true });
    }
    expect(missingScopes(platform, tokens.scopes)).toEqual([]);
    if (platform === 'webex') {
      expect(tokens.tokenType).toBe('Bearer');
      expect(tokens.refreshTokenExpiresAt?.getTime()).toBeGreaterThanOrEqual(before + 7776000 * 1000);
    }
  });

  it('code exchange without a scope member grants the requested scopes', async () => {
    upstream.answers.exchange = withoutScope(platform, 'exchange', documented(platform, 'exchange'));
    const { tokens } = await exchange();
    expect(tokens.scopes).toEqual([...adapter.requiredScopes]);
    expect(tokens.scopesStated).toBe(false);
    expect(missingScopes(platform, tokens.scopes)).toEqual([]);
  });

  it('code exchange stating fewer scopes grants exactly those (drift is seen)', async () => {
    const first = adapter.requiredScopes.find((s) => !['openid', 'profile', 'offline_access'].includes(s)) ?? '';
    upstream.answers.exchange = withScope(platform, 'exchange', documented(platform, 'exchange'), first);
    const { tokens } = await exchange();
    expect(tokens).toMatchObject({ scopes: [first], scopesStated: true });
    expect(missingScopes(platform, tokens.scopes).length).toBeGreaterThan(0);
  });

  it('refresh: the documented answer; without a scope member the stored scopes are kept', async () => {
    const answer = documented(platform, 'refresh');
    upstream.answers.refresh = answer;
    const tokens = await refresh();
    expect(tokens.accessToken.reveal()).toBe(answer.access_token);
    const scope = scopeMember(platform, 'refresh', answer);
    if (scope === undefined) expect(tokens).toMatchObject({ scopes: STORED, scopesStated: false });
    else expect(tokens).toMatchObject({ scopes: scope.split(/[\s,]+/), scopesStated: true });

    upstream.answers.refresh = withoutScope(platform, 'refresh', answer);
    const kept = await refresh();
    expect(kept).toMatchObject({ scopes: STORED, scopesStated: false });
  });
});

/** The sandbox's raw token answers, asked for as each platform's docs ask, without the SDKs. */
describe('the sandbox answers token requests with exactly the documented members', () => {
  let sandbox: Sandbox;
  let config: AppConfig;
  beforeAll(async () => {
    sandbox = await startSandbox();
    config = loadConfig({ ...sandbox.env, PUBLIC_BASE_URL: 'http://localhost:3000' });
  });
  afterAll(() => sandbox.close());

  function pkce(): { verifier: string; challenge: string } {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  async function codeFor(platform: Platform, tenantExternalId: string, challenge: string): Promise<string> {
    const url = ADAPTERS[platform](config).authorizeUrl({
      state: 's',
      codeChallenge: challenge,
      redirectUri: REDIRECT,
      tenantExternalId: platform === 'microsoft' ? tenantExternalId : undefined,
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
  }

  async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  const env = (name: string): string => sandbox.env[name] ?? '';

  /** Exchange then refresh, each as the platform documents the request. */
  const FLOWS: Record<Platform, (code: string, verifier: string, tenant: string) => Promise<{ exchange: Record<string, unknown>; refresh: Record<string, unknown> }>> = {
    webex: async (code, verifier) => {
      const client = { client_id: env('WEBEX_CLIENT_ID'), client_secret: env('WEBEX_CLIENT_SECRET') };
      const exchange = await post(`${env('WEBEX_API_URL')}/access_token`, { ...client, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
      const refresh = await post(`${env('WEBEX_API_URL')}/access_token`, { ...client, grant_type: 'refresh_token', refresh_token: String(exchange.refresh_token) });
      return { exchange, refresh };
    },
    zoom: async (code, verifier) => {
      const basic = { authorization: `Basic ${Buffer.from(`${env('ZOOM_CLIENT_ID')}:${env('ZOOM_CLIENT_SECRET')}`).toString('base64')}` };
      const exchange = await post(`${env('ZOOM_OAUTH_URL')}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, basic);
      const refresh = await post(`${env('ZOOM_OAUTH_URL')}/oauth/token`, { grant_type: 'refresh_token', refresh_token: String(exchange.refresh_token) }, basic);
      return { exchange, refresh };
    },
    slack: async (code, verifier) => {
      const client = { client_id: env('SLACK_CLIENT_ID'), client_secret: env('SLACK_CLIENT_SECRET') };
      const exchange = await post(`${env('SLACK_API_URL')}oauth.v2.access`, { ...client, code, redirect_uri: REDIRECT, code_verifier: verifier });
      const user = exchange.authed_user as Record<string, unknown>;
      const refresh = await post(`${env('SLACK_API_URL')}oauth.v2.access`, { ...client, grant_type: 'refresh_token', refresh_token: String(user.refresh_token) });
      return { exchange, refresh };
    },
    microsoft: async (code, verifier, tenant) => {
      const token = `${config.microsoft.authorityHost.replace(/\/$/, '')}/${tenant}/oauth2/v2.0/token`;
      const client = { client_id: env('MICROSOFT_CLIENT_ID'), client_secret: env('MICROSOFT_CLIENT_SECRET') };
      const scope = 'openid profile offline_access User.Read';
      const exchange = await post(token, { ...client, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope });
      const refresh = await post(token, { ...client, grant_type: 'refresh_token', refresh_token: String(exchange.refresh_token), scope });
      return { exchange, refresh };
    },
  };

  const USERS: Record<Platform, () => { tenantExternalId: string; userExternalId: string }> = {
    webex: () => ({ tenantExternalId: randomUUID(), userExternalId: randomUUID() }),
    zoom: () => ({ tenantExternalId: randomBytes(8).toString('hex'), userExternalId: randomBytes(8).toString('hex') }),
    slack: () => ({ tenantExternalId: 'T0SHAPE', userExternalId: 'U0SHAPE' }),
    microsoft: () => ({ tenantExternalId: randomUUID(), userExternalId: randomUUID() }),
  };

  it.each(['webex', 'zoom', 'slack', 'microsoft'] as const)('%s: code exchange and refresh', async (platform) => {
    const user = USERS[platform]();
    sandbox.control.addUser(platform, { ...user, email: 'ada@example.test', displayName: 'Ada Lovelace' });
    sandbox.control.signIn(platform, user.userExternalId);
    const { verifier, challenge } = pkce();
    const code = await codeFor(platform, user.tenantExternalId, challenge);
    const answers = await FLOWS[platform](code, verifier, user.tenantExternalId);
    expect(shapeOf(answers.exchange)).toEqual(shapeOf(TOKEN_ANSWERS[platform].exchange));
    expect(shapeOf(answers.refresh)).toEqual(shapeOf(TOKEN_ANSWERS[platform].refresh));
  });

  it('webex: neither answer carries scope or token_type', async () => {
    const user = USERS.webex();
    sandbox.control.addUser('webex', { ...user, email: 'ada@example.test', displayName: 'Ada Lovelace' });
    sandbox.control.signIn('webex', user.userExternalId);
    const { verifier, challenge } = pkce();
    const answers = await FLOWS.webex(await codeFor('webex', user.tenantExternalId, challenge), verifier, user.tenantExternalId);
    for (const answer of [answers.exchange, answers.refresh]) {
      expect(Object.keys(answer).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in']);
    }
  });

  it('microsoft: client_info only when the request asks for it, as MSAL does', async () => {
    const user = USERS.microsoft();
    sandbox.control.addUser('microsoft', { ...user, email: 'ada@example.test', displayName: 'Ada Lovelace' });
    sandbox.control.signIn('microsoft', user.userExternalId);
    const { verifier, challenge } = pkce();
    const code = await codeFor('microsoft', user.tenantExternalId, challenge);
    const token = `${config.microsoft.authorityHost.replace(/\/$/, '')}/${user.tenantExternalId}/oauth2/v2.0/token`;
    const answer = await post(token, {
      client_id: env('MICROSOFT_CLIENT_ID'),
      client_secret: env('MICROSOFT_CLIENT_SECRET'),
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      scope: 'openid offline_access User.Read',
      client_info: '1',
    });
    expect(typeof answer.client_info).toBe('string');
  });
});
