import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TenantsService } from '../src/tenants/tenants.service';
import { VaultRotation } from '../src/vault/vault-rotation';
import { startTestApp, testKeyring } from './support/app';
import { createTestDatabase } from './support/database';
import { makeTenant } from './support/factories';
import { findPlaintext } from './support/plaintext-scan';

const slackToken = () => `xoxb-test-${randomBytes(12).toString('hex')}`;

describe('vault with real PostgreSQL', () => {
  const k1 = testKeyring('k1');
  const k2 = testKeyring('k2');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('stores a Slack bot token sealed, never returns it, and rotates k1 → k2 under load', async () => {
    const a = await startTestApp({ VAULT_KEYS: k1 }, { databaseUrl: db.url });
    const expected = new Map<string, string>();
    for (let i = 0; i < 120; i++) {
      const token = slackToken();
      const tenant = await makeTenant(a, { platform: 'slack', bot: { botToken: token } });
      expected.set(tenant.id, token);
    }
    const [someId, someToken] = [...expected][0];
    const read = await a.call('GET', `/v1/tenants/${someId}`);
    expect(read.body.bot).toEqual({ botTokenConfigured: true });
    expect(JSON.stringify(read.body)).not.toContain(someToken);
    const ready = await a.call('GET', '/health/ready');
    expect(ready.body.details.vault).toMatchObject({ status: 'up', activeKeyId: 'k1', keyIdsInUse: ['k1'], unknownKeyIds: [] });
    await a.close();

    // The new ring: k2 encrypts, k1 still decrypts. Rotate while the service reads and writes.
    const b = await startTestApp({ VAULT_KEYS: `${k2},${k1}` }, { databaseUrl: db.url });
    const tenants = b.app.get(TenantsService);
    const rotation = b.app.get(VaultRotation);
    expect(await rotation.remaining()).toBe(120);
    let stop = false;
    const admin = { clientId: 'test', role: 'admin' as const, tenantIds: null };
    const readers = (async () => {
      let reads = 0;
      while (!stop) {
        for (const [id, token] of [...expected].slice(0, 30)) {
          expect(tenants.botToken(await tenants.find(admin, id))?.reveal()).toBe(expected.get(id) ?? token);
          reads++;
        }
      }
      return reads;
    })();
    const writers = (async () => {
      for (const id of [...expected.keys()].slice(60, 80)) {
        const token = slackToken();
        const res = await b.call('PATCH', `/v1/tenants/${id}`, { bot: { botToken: token } });
        expect(res.status).toBe(200);
        expected.set(id, token);
      }
    })();
    const moved = await rotation.rotate(7);
    await writers;
    stop = true;
    expect(await readers).toBeGreaterThan(0);
    expect(moved).toBeGreaterThan(0);
    expect(await rotation.remaining()).toBe(0);
    await b.close();

    // A restart with only k2 reads every secret.
    const c = await startTestApp({ VAULT_KEYS: k2 }, { databaseUrl: db.url });
    const cTenants = c.app.get(TenantsService);
    for (const [id, token] of expected) expect(cTenants.botToken(await cTenants.find(admin, id))?.reveal()).toBe(token);
    expect((await c.call('GET', '/health/ready')).body.details.vault).toMatchObject({ keyIdsInUse: ['k2'], unknownKeyIds: [] });
    await c.close();

    // Nothing in the database holds a plaintext token.
    expect(await findPlaintext(db.url, [...expected.values()])).toEqual([]);
  }, 120_000);

  it('is not ready when rows use a key id that is not in the ring, and refuses swapped rows', async () => {
    const t = await startTestApp({ VAULT_KEYS: k1 }, { databaseUrl: db.url });
    const x = await makeTenant(t, { platform: 'slack', bot: { botToken: slackToken() } });
    const y = await makeTenant(t, { platform: 'slack', bot: { botToken: slackToken() } });
    await t.close();

    // Copy y's ciphertext onto x: it must not open as x's token.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('UPDATE tenants SET bot_secret = (SELECT bot_secret FROM tenants WHERE id = $2) WHERE id = $1', [x.id, y.id]);
    await pg.end();
    const again = await startTestApp({ VAULT_KEYS: k1 }, { databaseUrl: db.url });
    const admin = { clientId: 'test', role: 'admin' as const, tenantIds: null };
    const service = again.app.get(TenantsService);
    await expect(service.find(admin, x.id).then((row) => service.botToken(row))).rejects.toMatchObject({ code: 'authentication-failed' });
    await again.close();

    const onlyNew = await startTestApp({ VAULT_KEYS: testKeyring('k9') }, { databaseUrl: db.url });
    const ready = await onlyNew.call('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.vault).toMatchObject({ status: 'down', activeKeyId: 'k9', unknownKeyIds: expect.arrayContaining(['k1']) });
    await onlyNew.close();
  }, 60_000);
});
