import { DataSource } from 'typeorm';
import { EventLog } from '../src/events/event-log';
import { testKeyring } from './support/app';
import { createTestDatabase } from './support/database';
import { makeTenant } from './support/factories';
import { importGrant, sleep, sql, waitFor } from './support/heal';
import { Receiver } from './support/receiver';
import { ServiceProcesses } from './support/service-process';
import { startWorld, World } from './support/world';

/**
 * SPEC §11: one slow or dead endpoint never delays another's deliveries nor a token call; a
 * URL is checked again at each delivery; a change that rolled back delivers nothing; and a
 * crash between commit and delivery still delivers, after the restart.
 */
describe('webhook delivery: isolation, the URL rules at delivery, rollbacks, crashes', () => {
  let w: World;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await Receiver.start();
    receivers.push(r);
    return r;
  };
  beforeAll(async () => {
    w = await startWorld({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await w.close();
  });

  it('an endpoint that never answers holds only its own slots: the other endpoint and token calls go on at once', async () => {
    const tenant = await makeTenant(w.t);
    const [dead, healthy] = [(await receiver()).always('hang'), await receiver()];
    for (const r of [dead, healthy]) {
      expect((await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url, events: ['*'], tenantIds: [tenant.id] })).status).toBe(201);
    }
    const connections = [];
    for (let i = 0; i < 6; i++) connections.push(await importGrant(w, 'microsoft', tenant.externalId));
    await waitFor('the dead endpoint holding its 2 slots', () => dead.received.length === 2);
    const started = Date.now();
    await waitFor('all 6 at the healthy endpoint', () => healthy.accepted().length === 6, 5_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    const t0 = Date.now();
    const token = await w.t.call('POST', `/v1/connections/${connections[0].id}/access-token`, {}, w.relayKey);
    expect(token.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await sleep(300);
    expect(dead.received).toHaveLength(2); // bounded: WEBHOOK_CONCURRENCY=2 in flight, no more
  });

  it('a change that rolls back queues and delivers nothing', async () => {
    const tenant = await makeTenant(w.t);
    const r = await receiver();
    const endpoint = await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url, events: ['*'], tenantIds: [tenant.id] });
    const db = w.t.app.get(DataSource);
    await expect(
      db.transaction(async (m) => {
        await w.t.app.get(EventLog).record(m, { type: 'connection.created', tenantId: tenant.id, data: { platform: 'microsoft' } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await db.transaction((m) => w.t.app.get(EventLog).record(m, { type: 'connection.revoked', tenantId: tenant.id, data: { platform: 'microsoft' } }));
    const got = await waitFor('the committed one', () => r.received[0]);
    await sleep(300);
    expect(r.received).toHaveLength(1);
    expect(JSON.parse(got.body).type).toBe('connection.revoked');
    expect(await sql(w, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1`, [endpoint.body.id])).toEqual([{ n: 1 }]);
  });
});

describe('webhook URL rules at each delivery (WEBHOOK_ALLOW_PRIVATE_URLS unset)', () => {
  let w: World;
  let r: Receiver;
  beforeAll(async () => {
    w = await startWorld();
    r = await Receiver.start();
  });
  afterAll(async () => {
    await r.close();
    await w.close();
  });

  it('refuses private addresses at creation, and at delivery (no request at all) when the stored URL has come to point at one', async () => {
    const tenant = await makeTenant(w.t);
    const refused = await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url, events: ['*'], tenantIds: [tenant.id] });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'url' })]);
    const loopback = await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url.replace('http:', 'https:'), events: ['*'], tenantIds: [tenant.id] });
    expect(loopback.status).toBe(400);

    const created = await w.t.call('POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/hooks', events: ['*'], tenantIds: [tenant.id] });
    expect(created.status).toBe(201);
    // As if its DNS now answered a loopback address: the URL as stored is what delivery checks.
    await sql(w, `UPDATE webhook_endpoints SET url = $2 WHERE id = $1`, [created.body.id, r.url.replace('http:', 'https:')]);
    await importGrant(w, 'microsoft', tenant.externalId);
    const [d] = await waitFor('the refused attempt', async () => {
      const items = (await w.t.call('GET', `/v1/webhook-endpoints/${created.body.id}/deliveries`)).body.items;
      return items[0]?.attempts >= 1 ? items : undefined;
    });
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastError: 'url_refused' });
    expect(d.lastStatusCode).toBeUndefined();
    expect(r.received).toHaveLength(0);
  });
});

describe('webhook delivery across a crash', () => {
  it('SIGKILL with a delivery in flight: the next start takes its lease back and it is accepted exactly once', async () => {
    const r = (await Receiver.start()).answer('hang');
    const db = await createTestDatabase();
    const keys = testKeyring();
    const processes = new ServiceProcesses({ VAULT_KEYS: keys, REFRESH_SWEEP_INTERVAL: '1h', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    try {
      const { child, api } = await processes.start(db.url);
      const tenant = (await api('POST', '/v1/tenants', { platform: 'zoom', externalId: 'acctCRASH1', name: 'Crash Co', admins: [{ userExternalId: 'zuadmin' }] })).body;
      const endpoint = await api('POST', '/v1/webhook-endpoints', { url: r.url, events: ['connection.created'], tenantIds: [tenant.id] });
      expect(endpoint.status).toBe(201);
      const imported = await api('POST', '/v1/connections', {
        platform: 'zoom',
        tenantExternalId: 'acctCRASH1',
        userExternalId: 'zucrash',
        accessToken: 'at-crash',
        refreshToken: 'rt-crash',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        scopes: ['team_chat:read:list_user_channels'],
      });
      expect(imported.status).toBe(201);
      await waitFor('the delivery in flight', () => r.received[0]);
      const [leased] = await sql<{ lease_owner: string; next_attempt_at: Date }>(db.url, `SELECT lease_owner, next_attempt_at FROM webhook_deliveries`);
      expect(leased.lease_owner).toContain(`:${child.pid}:`);
      child.kill('SIGKILL');
      await new Promise((done) => (child.exitCode !== null || child.signalCode !== null ? done(null) : child.once('exit', done)));

      await processes.start(db.url);
      const accepted = await waitFor('delivered after the restart', () => r.accepted()[0], 20_000);
      expect(Date.now()).toBeLessThan(leased.next_attempt_at.getTime()); // taken back at start, not at the lease's end
      expect(Receiver.verify(endpoint.body.secret, accepted)).toMatchObject({ type: 'connection.created', data: { connectionId: imported.body.id } });
      await sleep(1_000);
      expect(r.accepted()).toHaveLength(1);
      expect(r.received.map((x) => x.id)).toEqual([accepted.id, accepted.id]);
      expect(await sql(db.url, `SELECT status, attempts, lease_owner FROM webhook_deliveries`)).toEqual([{ status: 'delivered', attempts: 1, lease_owner: null }]);
    } finally {
      processes.stopAll();
      await r.close();
      await db.drop();
    }
  }, 90_000);
});
