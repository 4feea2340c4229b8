import { startSandbox, Sandbox } from '../sandbox';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { startTestApp, testKeyring, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { fullScopes, makeTenant } from './support/factories';
import { platformIds } from './support/world';

/** SPEC §7: concurrent token calls on any number of replicas cause one upstream refresh. */
describe('one refresh per connection across replicas', () => {
  let sb: Sandbox;
  let a: TestApp;
  let b: TestApp;
  let relayKey: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    sb = await startSandbox({ tokenLatencyMs: 100 });
    db = await createTestDatabase();
    const keys = testKeyring('k1');
    // 500 calls at once with one key are over RATE_LIMIT's burst; this test is about refreshes, not request rates.
    const env = { ...sb.env, VAULT_KEYS: keys, REFRESH_SWEEP_INTERVAL: '1h', RATE_LIMIT: 'off' };
    a = await startTestApp(env, { databaseUrl: db.url });
    b = await startTestApp(env, { databaseUrl: db.url });
    relayKey = (await a.call('POST', '/v1/api-clients', { name: 'relay', role: 'relay', tenantIds: ['*'] })).body.apiKey;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await sb.close();
    await db.drop();
  });

  async function importUser(platform: 'slack' | 'zoom', expiresInSeconds: number) {
    const ids = platformIds(platform);
    await makeTenant(a, { platform, externalId: ids.tenant, ...(platform === 'zoom' ? { bot: { accountId: ids.tenant } } : {}) });
    const grant = sb.control.mintGrant(platform, { tenantExternalId: ids.tenant, userExternalId: ids.user, scopes: fullScopes(platform) });
    const res = await a.call('POST', '/v1/connections', {
      platform,
      tenantExternalId: ids.tenant,
      userExternalId: ids.user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
      scopes: fullScopes(platform),
    });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, user: ids.user };
  }

  it('500 concurrent token calls over two instances cause exactly 1 upstream refresh', async () => {
    const { id, user } = await importUser('slack', 120);
    const calls = Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).call('POST', `/v1/connections/${id}/access-token`, { minValiditySeconds: 300 }, relayKey));
    const answers = await Promise.all(calls);
    expect(answers.map((r) => r.status)).toEqual(Array(500).fill(200));
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    expect(sb.control.tokenCalls('slack', { userExternalId: user, grantType: 'refresh_token' })).toBe(1);
    expect(sb.control.reuseEvents('slack')).toEqual([]);
  });

  it('concurrent invalidations on two instances share one refresh', async () => {
    const { id, user } = await importUser('zoom', 3000);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).call('POST', `/v1/connections/${id}/invalidate`, undefined, relayKey)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    expect(sb.control.tokenCalls('zoom', { userExternalId: user, grantType: 'refresh_token' })).toBe(1);
  });

  it('the sweep refreshes due connections once across two instances, before expiry', async () => {
    const due = await Promise.all(Array.from({ length: 30 }, () => importUser('slack', 200)));
    const notDue = await importUser('slack', 3600);
    const [x, y] = await Promise.all([a.app.get(RefreshSweep).sweep(), b.app.get(RefreshSweep).sweep()]);
    expect(x + y).toBe(30);
    for (const d of due) {
      expect(sb.control.tokenCalls('slack', { userExternalId: d.user, grantType: 'refresh_token' })).toBe(1);
      const view = await a.call('GET', `/v1/connections/${d.id}`, undefined, relayKey);
      expect(view.body.status).toBe('active');
      expect(new Date(view.body.nextRefreshAt).getTime()).toBeGreaterThan(Date.now());
      expect(view.body.lastRefreshAt).toBeDefined();
    }
    expect(sb.control.tokenCalls('slack', { userExternalId: notDue.user, grantType: 'refresh_token' })).toBe(0);
  });
});
