import { Sandbox, startSandbox, zoomOauthError } from '../sandbox';
import { testKeyring } from './support/app';
import { createTestDatabase } from './support/database';
import { fullScopes } from './support/factories';
import { ServiceProcesses } from './support/service-process';
import { dms, resyncLink, sleep, sql, waitFor } from './support/heal';
import { connectUser, followConnectLink, platformIds, startWorld } from './support/world';

/**
 * SPEC §7: a refresh failure loses to a refresh or re-sync committed meanwhile, and a refresh
 * cut off by a crash whose rotated-away refresh token is then refused is `grant_revoked` at
 * once (a re-sync prompt), counted in the cut-off and rotation-lost metrics.
 */

const metric = async (base: string, name: string, platform: string): Promise<number | undefined> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{platform="${platform}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe.concurrent('refresh failures against newer writes, and refreshes cut off by a crash', () => {
  let sb: Sandbox;
  let processes: ServiceProcesses;
  const keys = testKeyring();
  beforeAll(async () => {
    sb = await startSandbox();
    processes = new ServiceProcesses({ VAULT_KEYS: keys, REFRESH_SWEEP_INTERVAL: '1s', ...sb.env });
  });
  afterAll(async () => {
    processes.stopAll();
    await sb.close();
  });

  it('a slow refresh that fails permanently after the user re-connected: the re-connect wins, no incident, no DM', async ({ expect }) => {
    const w = await startWorld(); // its own sandbox: the latency below is platform-wide
    try {
      const c = await connectUser(w, 'zoom');
      const before = await w.t.call('POST', `/v1/connections/${c.connectionId}/access-token`, {}, w.relayKey);
      expect(before.status).toBe(200);

      // The refresh answers after 2.5 s, and then refuses the refresh token for good.
      w.sb.control.setLatency('zoom', 2_500);
      w.sb.control.failRefreshes('zoom', { userExternalId: c.userExternalId }, zoomOauthError('invalid_grant', 'Invalid Token!'), 1);
      let settled = false;
      const invalidated = w.t.call('POST', `/v1/connections/${c.connectionId}/invalidate`, undefined, w.relayKey).finally(() => (settled = true));
      await waitFor('the refresh at the platform', () => w.sb.control.tokenCalls('zoom', { userExternalId: c.userExternalId, grantType: 'refresh_token' }) === 1);
      w.sb.control.setLatency('zoom', 0); // the sleeping refresh keeps its 2.5 s; the re-connect is quick

      // Meanwhile the same user re-connects through a new connect link.
      w.sb.control.signIn('zoom', c.userExternalId);
      const link = await w.t.call('POST', '/v1/connect-links', { platform: 'zoom', tenantExternalId: c.tenantExternalId, userExternalId: c.userExternalId }, w.relayKey);
      expect(link.status).toBe(201);
      expect((await followConnectLink(link.body.url)).status).toBe(200);
      const reconnected = await w.t.call('POST', `/v1/connections/${c.connectionId}/access-token`, {}, w.relayKey);
      expect(reconnected.status).toBe(200);
      expect(reconnected.body.accessToken).not.toBe(before.body.accessToken);
      expect(settled).toBe(false); // the refresh's failure has not arrived yet

      // The failure arrives: the newer write wins, and the waiting caller gets its token.
      const res = await invalidated;
      expect(res.status).toBe(200);
      expect(res.body.accessToken).toBe(reconnected.body.accessToken);
      expect(w.sb.control.tokenCalls('zoom', { userExternalId: c.userExternalId, grantType: 'refresh_token' })).toBe(1);

      // The refusal did arrive, and lost to the newer write.
      const metrics = await (await fetch(`${w.t.url}/metrics`)).text();
      expect(metrics).toMatch(/autoheal_refreshes_total\{(?=[^}]*platform="zoom")(?=[^}]*outcome="superseded")[^}]*\} 1\n/);
      const view = await w.t.call('GET', `/v1/connections/${c.connectionId}`);
      expect(view.body.status).toBe('active');
      expect(view.body.lastError).toBeUndefined();
      expect(view.body.incidentId).toBeUndefined();
      const incidents = await w.t.call('GET', `/v1/incidents?tenantId=${c.tenantId}`);
      expect(incidents.status).toBe(200);
      expect(incidents.body.items).toEqual([]);
      const next = await w.t.call('POST', `/v1/connections/${c.connectionId}/access-token`, {}, w.relayKey);
      expect(next.status).toBe(200);
      expect(next.body.accessToken).toBe(reconnected.body.accessToken);
      await sleep(1_000); // a prompt, if any were queued, would be sent by now
      expect(w.sb.control.messages('zoom')).toEqual([]);
    } finally {
      await w.close();
    }
  }, 60_000);

  it('SIGKILL while Zoom rotates the refresh token: the next start counts the cut-off and asks the user to re-sync once', async ({ expect }) => {
    const db = await createTestDatabase();
    const { child, api } = await processes.start(db.url);
    const { tenant: tenantExternalId, user } = platformIds('zoom');
    const admin = platformIds('zoom').user;
    const tenant = await api('POST', '/v1/tenants', {
      platform: 'zoom',
      externalId: tenantExternalId,
      name: 'Cut Co',
      admins: [{ userExternalId: admin }],
      bot: { accountId: tenantExternalId },
    });
    expect(tenant.status).toBe(201);
    const relay = (await api('POST', '/v1/api-clients', { name: 'relay', role: 'relay', tenantIds: ['*'] })).body.apiKey;
    sb.control.addUser('zoom', { tenantExternalId, userExternalId: user });
    const grant = sb.control.mintGrant('zoom', { tenantExternalId, userExternalId: user, scopes: fullScopes('zoom') });
    const imported = await api('POST', '/v1/connections', {
      platform: 'zoom',
      tenantExternalId,
      userExternalId: user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      scopes: fullScopes('zoom'),
    });
    expect(imported.status).toBe(201);
    const id = imported.body.id;

    // The platform holds the refresh 3 s, then rotates (even with the caller gone).
    const delayMs = 3_000;
    sb.control.failRefreshes('zoom', { userExternalId: user }, { delayMs }, 1);
    const armedAt = Date.now();
    void api('POST', `/v1/connections/${id}/invalidate`, undefined, relay).catch(() => undefined);
    await waitFor('the refresh at the platform', () => sb.control.tokenCalls('zoom', { userExternalId: user, grantType: 'refresh_token' }) === 1);
    const [inFlight] = await sql<{ lease_owner: string; refresh_started_at: Date | null }>(db.url, `SELECT lease_owner, refresh_started_at FROM connections WHERE id = $1`, [id]);
    expect(inFlight.refresh_started_at).not.toBeNull(); // committed before the upstream call
    expect(inFlight.lease_owner).toContain(`:${child.pid}:`);

    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    await sleep(armedAt + delayMs + 300 - Date.now()); // the platform has rotated; the new pair went nowhere

    const w = await startWorld({ VAULT_KEYS: keys, REFRESH_SWEEP_INTERVAL: '1s' }, { sb, databaseUrl: db.url });
    try {
      expect(await metric(w.t.url, 'autoheal_refresh_cutoff_total', 'zoom')).toBe(1);
      await waitFor('the sweep to retry the cut-off refresh', async () => (await metric(w.t.url, 'autoheal_refresh_rotation_lost_total', 'zoom')) === 1, 15_000);
      expect(sb.control.tokenCalls('zoom', { userExternalId: user, grantType: 'refresh_token' })).toBe(2);
      expect(sb.control.reuseEvents('zoom').filter((e) => e.userExternalId === user)).toHaveLength(1); // the old token, refused

      const view = await w.t.call('GET', `/v1/connections/${id}`);
      expect(view.body).toMatchObject({ status: 'needs_reauth', lastError: { kind: 'condition', condition: 'grant_revoked', audience: 'user' } });
      const token = await w.t.call('POST', `/v1/connections/${id}/access-token`, {}, w.relayKey);
      expect(token.status).toBe(409);
      expect(token.body.condition).toBe('grant_revoked');

      const dm = await waitFor('the re-sync prompt', () => dms(w, 'zoom', user)[0], 20_000);
      expect(resyncLink(dm)).toContain('/connect/');
      await sleep(1_500); // a duplicate would show by now
      expect(dms(w, 'zoom', user)).toHaveLength(1);
      expect(dms(w, 'zoom', admin)).toHaveLength(0);
      const [row] = await sql<{ refresh_cutoff: boolean; lease_owner: string | null }>(db.url, `SELECT refresh_cutoff, lease_owner FROM connections WHERE id = $1`, [id]);
      expect(row).toEqual({ refresh_cutoff: false, lease_owner: null });
    } finally {
      await w.t.close();
      await db.drop();
    }
  }, 90_000);
});
