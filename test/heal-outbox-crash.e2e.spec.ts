import { microsoftError, Sandbox, slackError, startSandbox } from '../sandbox';
import { testKeyring } from './support/app';
import { createTestDatabase } from './support/database';
import { fullScopes } from './support/factories';
import { ServiceProcesses } from './support/service-process';
import { dms, importGrant, resyncLink, sleep, sql, tenantWithAdmins, waitFor } from './support/heal';
import { followConnectLink, platformIds, startWorld } from './support/world';

/**
 * SPEC §4: a prompt is doubled by a restart only when the process died between delivering it
 * and recording the delivery. Here the process dies (SIGKILL) while the platform has not
 * accepted the prompt, or stops while the prompt waits for a retry: the next start sends it,
 * exactly once.
 */

interface PromptRow {
  id: string;
  recipient: string;
  status: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: Date | null;
  last_error: string | null;
}
const promptsOf = (databaseUrl: string, incidentId: string) =>
  sql<PromptRow>(databaseUrl, `SELECT id, recipient, status, attempts, lease_owner, lease_until, last_error FROM prompts WHERE incident_id = $1 ORDER BY recipient`, [incidentId]);

describe.concurrent('the prompt outbox across a crash and a restart', () => {
  let sb: Sandbox;
  let processes: ServiceProcesses;
  const keys = testKeyring();
  beforeAll(async () => {
    sb = await startSandbox();
    processes = new ServiceProcesses({ VAULT_KEYS: keys, REFRESH_SWEEP_INTERVAL: '1h', ...sb.env });
  });
  afterAll(async () => {
    processes.stopAll();
    await sb.close();
  });

  it('SIGKILL while a prompt is being sent: the next start takes its lease back and sends it exactly once', async ({ expect }) => {
    const db = await createTestDatabase();
    const { child, api } = await processes.start(db.url);
    const tenantExternalId = platformIds('microsoft').tenant;
    const admins = [platformIds('microsoft').user, platformIds('microsoft').user];
    await api('POST', '/v1/tenants', {
      platform: 'microsoft',
      externalId: tenantExternalId,
      name: 'Crash Co',
      admins: admins.map((userExternalId) => ({ userExternalId })),
      bot: { serviceUrl: sb.env.MICROSOFT_BOT_SERVICE_URL },
    });
    const relay = (await api('POST', '/v1/api-clients', { name: 'relay', role: 'relay', tenantIds: ['*'] })).body.apiKey;
    const user = platformIds('microsoft').user;
    const grant = sb.control.mintGrant('microsoft', { tenantExternalId, userExternalId: user, scopes: fullScopes('microsoft') });
    const imported = await api('POST', '/v1/connections', {
      platform: 'microsoft',
      tenantExternalId,
      userExternalId: user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      scopes: fullScopes('microsoft'),
    });
    expect(imported.status).toBe(201);

    // One admin's DM goes through; the platform never answers the other's.
    sb.control.failMessages('microsoft', { hang: true }, 1);
    sb.control.failRefreshes('microsoft', { userExternalId: user }, microsoftError(53003));
    const res = await api('POST', `/v1/connections/${imported.body.id}/invalidate`, undefined, relay);
    expect(res.status).toBe(409);
    const incidentId = res.body.incidentId;
    const stuck = await waitFor('one prompt sent and the other leased mid-send', async () => {
      const rows = await promptsOf(db.url, incidentId);
      const leased = rows.find((r) => r.status === 'queued' && r.lease_owner !== null);
      return rows.length === 2 && rows.some((r) => r.status === 'sent') && leased && sb.control.messages('microsoft').length === 1 ? leased : undefined;
    });
    expect(stuck.lease_owner).toContain(`:${child.pid}:`);

    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    expect(sb.control.messages('microsoft', stuck.recipient)).toHaveLength(0);

    const w = await startWorld({ VAULT_KEYS: keys }, { sb, databaseUrl: db.url });
    try {
      await waitFor('the stuck prompt delivered', () => dms(w, 'microsoft', stuck.recipient).length > 0, 25_000);
      // Taken back at start, not when its 30 s lease ran out.
      expect(Date.now()).toBeLessThan((stuck.lease_until as Date).getTime());
      await sleep(1_500); // any duplicate would show by now
      for (const admin of admins) expect(dms(w, 'microsoft', admin)).toHaveLength(1);
      expect(sb.control.messages('microsoft')).toHaveLength(2);
      const rows = await promptsOf(db.url, incidentId);
      expect(rows.map((r) => [r.recipient, r.status, r.lease_owner])).toEqual([...admins].sort().map((a) => [a, 'sent', null]));
      expect(rows.find((r) => r.id === stuck.id)?.attempts).toBe(2);
      const view = await w.t.call('GET', `/v1/incidents/${incidentId}`);
      expect(view.body.prompts.map((p: { status: string }) => p.status)).toEqual(['sent', 'sent']);
    } finally {
      await w.t.close();
      await db.drop();
    }
  }, 90_000);

  it('stopped while a prompt waits for its retry: the next instance sends it exactly once, and its link heals', async ({ expect }) => {
    const db = await createTestDatabase();
    const first = await startWorld({ VAULT_KEYS: keys }, { sb, databaseUrl: db.url });
    const tenant = await tenantWithAdmins(first, 'slack', 1);
    const c = await importGrant(first, 'slack', tenant.externalId);
    sb.control.failMessages('slack', slackError('ratelimited', 3), 1);
    sb.control.failRefreshes('slack', { userExternalId: c.userExternalId }, slackError('token_revoked'), 1);
    const res = await first.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, first.relayKey);
    expect(res.status).toBe(409);
    const incidentId: string = res.body.incidentId;
    const waiting = await waitFor('the prompt queued for a retry', async () => {
      const [row] = await promptsOf(db.url, incidentId);
      return row?.attempts === 1 && row.status === 'queued' && row.lease_owner === null && row.last_error ? row : undefined;
    });
    expect(waiting.recipient).toBe(c.userExternalId);
    await first.t.close();
    expect(dms(first, 'slack', c.userExternalId)).toHaveLength(0);

    const second = await startWorld({ VAULT_KEYS: keys }, { sb, databaseUrl: db.url });
    try {
      const dm = await waitFor('the retried prompt', () => dms(second, 'slack', c.userExternalId)[0], 20_000);
      await sleep(1_500);
      expect(dms(second, 'slack', c.userExternalId)).toHaveLength(1);
      const [row] = await promptsOf(db.url, incidentId);
      expect(row).toMatchObject({ status: 'sent', attempts: 2, lease_owner: null });
      sb.control.signIn('slack', c.userExternalId);
      expect((await followConnectLink(resyncLink(dm) as string)).status).toBe(200);
      await waitFor('the incident resolved', async () => (await second.t.call('GET', `/v1/incidents/${incidentId}`)).body.status === 'resolved');
    } finally {
      await second.t.close();
      await db.drop();
    }
  }, 60_000);
});
