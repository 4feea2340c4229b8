import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { startTestApp, TestApp } from './support/app';
import { launchChromium, openPage } from './support/chromium';
import { SandboxOidc, startOidcProvider } from '../sandbox/oidc';

/**
 * SPEC §13 against a real authorization server: panva's oidc-provider, refresh-token rotation
 * with reuse detection, PKCE required, its own login and consent pages clicked through in
 * headless Chromium. Three descriptions point at the one OP: `acme` (the normal client),
 * `acme-idle` (a client whose refresh tokens die after 2 s unused, and says so) and `acme-bad`
 * (the right client id with a wrong secret).
 */
describe('a generic OIDC provider (oidc-provider) from PROVIDERS_FILE', () => {
  let op: SandboxOidc;
  let t: TestApp;
  let browser: Browser;
  let relayKey: string;
  let dir: string;
  const TENANT = 'acme-corp';
  const IDLE_SECONDS = 2;

  beforeAll(async () => {
    op = await startOidcProvider({ idleClientRefreshTtlSeconds: IDLE_SECONDS });
    dir = mkdtempSync(path.join(tmpdir(), 'autoheal-providers-'));
    const scopes = [
      { scope: 'openid', reason: 'Sign you in.' },
      { scope: 'offline_access', reason: 'Keep the relay connected while you are away.' },
      { scope: 'profile', reason: 'Show your name on incidents.' },
      { scope: 'org', reason: 'Know which organisation you belong to.' },
    ];
    const common = { issuer: op.issuer, clientId: op.clientId, tenantClaim: 'org', scopes };
    const file = path.join(dir, 'providers.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        providers: [
          { name: 'acme', displayName: 'Acme ID', ...common, clientSecretEnv: 'ACME_SECRET' },
          { name: 'acme-idle', displayName: 'Acme Idle', ...common, clientId: op.idleClientId, clientSecret: op.clientSecret, refreshIdleLifetime: `${IDLE_SECONDS}s` },
          { name: 'acme-bad', ...common, clientSecret: 'not-the-secret' },
        ],
      }),
    );
    t = await startTestApp({ PROVIDERS_FILE: file, ACME_SECRET: op.clientSecret, REFRESH_SWEEP_INTERVAL: '1h', RATE_LIMIT: 'off', FORCED_REFRESH_LIMIT: 'off' });
    op.configure((name) => `${t.url}/oauth/${name}/callback`);
    relayKey = (await t.call('POST', '/v1/api-clients', { name: 'relay', role: 'relay', tenantIds: ['*'] })).body.apiKey;
    for (const platform of ['acme', 'acme-idle', 'acme-bad']) {
      expect((await t.call('POST', '/v1/tenants', { platform, externalId: TENANT, name: 'Acme Corp', admins: [{ userExternalId: 'admin-1' }] })).status).toBe(201);
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await op?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (id: string, minValiditySeconds?: number) =>
    t.call('POST', `/v1/connections/${id}/access-token`, minValiditySeconds === undefined ? {} : { minValiditySeconds }, relayKey);
  const connectionOf = async (platform: string, user: string) =>
    (await t.call('GET', `/v1/connections?platform=${platform}&tenantExternalId=${TENANT}&userExternalId=${user}`, undefined, relayKey)).body.items[0];

  /** A person opens the link in Chromium, signs in at the OP as `login`, consents, and lands on our page. */
  async function signInThrough(url: string, login: string): Promise<{ heading: string; consoleErrors: string[] }> {
    const opened = await openPage(browser);
    const { page, consoleErrors } = opened;
    try {
      await page.goto(url);
      await page.getByRole('button', { name: /^Continue to / }).click();
      await page.locator('input[name=login]').fill(login);
      await page.locator('input[name=password]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((u) => u.pathname.endsWith('/callback'));
      return { heading: (await page.locator('h1').textContent()) ?? '', consoleErrors };
    } finally {
      await opened.close();
    }
  }

  async function connect(platform: string, login: string): Promise<string> {
    const link = await t.call('POST', '/v1/connect-links', { platform, tenantExternalId: TENANT, userExternalId: login }, relayKey);
    expect(link.status).toBe(201);
    const landed = await signInThrough(link.body.url, login);
    expect(landed).toEqual({ heading: 'Connected', consoleErrors: [] });
    const connection = await connectionOf(platform, login);
    expect(connection).toMatchObject({ status: 'active', tenantExternalId: TENANT, userExternalId: login });
    return connection.id;
  }

  /** The OP's own answer to an access token: its user-info endpoint. */
  const userinfo = (accessToken: string) => fetch(`${op.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });

  it('is listed by GET /v1/platforms as a generic platform whose prompts are events', async () => {
    const listed = await t.call('GET', '/v1/platforms', undefined, relayKey);
    expect(listed.body.items.find((p: { platform: string }) => p.platform === 'acme')).toEqual({
      platform: 'acme',
      displayName: 'Acme ID',
      kind: 'generic',
      prompts: 'events',
      enabled: true,
      requiredScopes: ['openid', 'offline_access', 'profile', 'org'],
      botScopes: [],
    });
  });

  it('connects in the browser through the OP login and consent pages; the token call answers a token the OP accepts', async () => {
    const id = await connect('acme', 'alice');
    const answer = await token(id);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ connectionId: id, tokenType: 'Bearer', scopes: expect.arrayContaining(['openid', 'offline_access', 'org']) });
    const me = await userinfo(answer.body.accessToken);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: 'alice', org: TENANT });
    expect(op.grants.authorization_code).toBeGreaterThanOrEqual(1);
  });

  it('a forced refresh rotates the refresh token at the OP and the new access token works', async () => {
    const id = await connect('acme', 'bob');
    const before = (await token(id)).body.accessToken;
    const refreshes = op.grants.refresh_token ?? 0;
    const forced = await t.call('POST', `/v1/connections/${id}/invalidate`, undefined, relayKey);
    expect(forced.status).toBe(200);
    expect(forced.body.accessToken).not.toBe(before);
    expect(op.grants.refresh_token).toBe(refreshes + 1);
    expect((await userinfo(forced.body.accessToken)).status).toBe(200);
    // A second forced refresh uses the rotated token: had the old one been kept, reuse detection would revoke the grant.
    expect((await t.call('POST', `/v1/connections/${id}/invalidate`, undefined, relayKey)).status).toBe(200);
    expect(op.revokedGrants).toEqual([]);
  });

  it('200 concurrent token calls that need a refresh cause one refresh, and reuse detection never trips', async () => {
    op.ttl.accessTokenSeconds = 60; // below the calls' minValiditySeconds: every call needs a refresh
    const id = await connect('acme', 'carol');
    op.ttl.accessTokenSeconds = 3600; // the refreshed token satisfies them
    const refreshes = op.grants.refresh_token ?? 0;
    const answers = await Promise.all(Array.from({ length: 200 }, () => token(id, 300)));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    expect(new Set(answers.map((a) => a.body.accessToken)).size).toBe(1);
    expect(op.grants.refresh_token).toBe(refreshes + 1);
    expect(op.revokedGrants).toEqual([]);
  });

  it('the sweep refreshes a token before it expires', async () => {
    op.ttl.accessTokenSeconds = 90; // shorter than the 5-minute lead: due at once
    const id = await connect('acme', 'dave');
    op.ttl.accessTokenSeconds = 3600;
    const first = await connectionOf('acme', 'dave');
    const refreshes = op.grants.refresh_token ?? 0;
    expect(await t.app.get(RefreshSweep).sweep()).toBeGreaterThanOrEqual(1);
    const swept = await connectionOf('acme', 'dave');
    expect(op.grants.refresh_token).toBeGreaterThan(refreshes);
    expect(Date.parse(swept.lastRefreshAt)).toBeLessThan(Date.parse(first.accessTokenExpiresAt));
    expect(Date.parse(swept.accessTokenExpiresAt)).toBeGreaterThan(Date.now() + 3000_000);
    expect((await userinfo((await token(id, 3000)).body.accessToken)).status).toBe(200);
  });

  it('a grant revoked at the OP opens a grant_revoked incident and an event whose re-sync url heals it; no DM is queued', async () => {
    const id = await connect('acme', 'erin');
    await op.revokeAccount('erin');
    const refused = await t.call('POST', `/v1/connections/${id}/invalidate`, undefined, relayKey);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ condition: 'grant_revoked', audience: 'user' });
    const incidentId = refused.body.incidentId as string;

    // GET /v1/events shows an event once every transaction before it has committed: poll briefly.
    let broken: { data: Record<string, unknown> & { url: string } } | undefined;
    for (const started = Date.now(); !broken && Date.now() - started < 10_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const events = await t.call('GET', '/v1/events?type=connection.broken', undefined, relayKey);
      broken = events.body.items.find((e: { data: { connectionId: string } }) => e.data.connectionId === id);
    }
    if (!broken) throw new Error('no connection.broken event within 10 s');
    expect(broken.data).toMatchObject({ platform: 'acme', condition: 'grant_revoked', audience: 'user', incidentId, url: expect.stringMatching(/\/connect\//) });
    const incident = await t.call('GET', `/v1/incidents/${incidentId}`);
    expect(incident.body).toMatchObject({ condition: 'grant_revoked', status: 'open', prompts: [] });

    expect((await signInThrough(broken.data.url, 'erin')).heading).toBe('Connected');
    expect((await t.call('GET', `/v1/incidents/${incidentId}`)).body).toMatchObject({ status: 'resolved', prompts: [] });
    const healed = await token(id);
    expect(healed.status).toBe(200);
    expect((await userinfo(healed.body.accessToken)).status).toBe(200);
  });

  it('a refresh token left unused past its idle lifetime is refresh_token_inactive', async () => {
    const id = await connect('acme-idle', 'frank');
    await new Promise((resolve) => setTimeout(resolve, (IDLE_SECONDS + 1) * 1000));
    const refused = await t.call('POST', `/v1/connections/${id}/invalidate`, undefined, relayKey);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ condition: 'refresh_token_inactive', audience: 'user' });
  });

  it('a wrong client secret is client_misconfigured, and readiness names the platform', async () => {
    const imported = await t.call('POST', '/v1/connections', {
      platform: 'acme-bad',
      tenantExternalId: TENANT,
      userExternalId: 'grace',
      accessToken: 'opaque-access',
      refreshToken: 'opaque-refresh',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      scopes: ['openid', 'offline_access', 'profile', 'org'],
    });
    expect(imported.status).toBe(201);
    const refused = await t.call('POST', `/v1/connections/${imported.body.id}/invalidate`, undefined, relayKey);
    expect(refused.status).toBe(503);
    expect(refused.body.type).toMatch(/client-misconfigured$/);
    expect((await t.call('GET', '/health/ready', undefined, null)).body.details.clients).toMatchObject({ 'acme-bad': 'misconfigured', acme: 'ok' });
    expect((await connectionOf('acme-bad', 'grace')).status).toBe('active'); // our client, not the user's grant
  });

  it('while the OP is down a valid token is served, an expired one is 503, and it recovers within 60 s of the OP returning', async () => {
    op.ttl.accessTokenSeconds = 6;
    const id = await connect('acme', 'heidi');
    op.ttl.accessTokenSeconds = 3600;
    const valid = (await token(id, 0)).body;
    await op.stop();
    try {
      const served = await token(id); // wants a refresh (300 s), cannot get one, still has a valid token
      expect(served.status).toBe(200);
      expect(served.body.accessToken).toBe(valid.accessToken);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(valid.expiresAt) - Date.now()) + 500));
      const expired = await token(id, 0);
      expect(expired.status).toBe(503);
      expect(Number(expired.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await op.start();
    }
    const back = Date.now();
    let answer = await token(id, 0);
    while (answer.status !== 200 && Date.now() - back < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      answer = await token(id, 0);
    }
    expect(answer.status).toBe(200);
    expect(Date.now() - back).toBeLessThan(60_000);
    expect((await connectionOf('acme', 'heidi')).status).toBe('active');
  }, 120_000);

  it('delete revokes the grant at the OP (RFC 7009)', async () => {
    const id = await connect('acme', 'ivan');
    const accessToken = (await token(id)).body.accessToken;
    const revocations = op.requests.filter((r) => r.path === '/token/revocation').length;
    expect((await t.call('DELETE', `/v1/connections/${id}`)).status).toBe(200);
    expect(op.requests.filter((r) => r.path === '/token/revocation' && r.method === 'POST')).toHaveLength(revocations + 1);
    expect(op.revokedGrants.length).toBeGreaterThan(0);
    expect((await userinfo(accessToken)).status).toBe(401);
  });
});
