import { WebhookEndpointsService } from '../src/webhooks/webhook-endpoints.service';
import { startTestApp, TestApp } from './support/app';
import { makeApiKey, makeTenant } from './support/factories';
import { sql } from './support/heal';
import { findPlaintext } from './support/plaintext-scan';

/** An IP literal the guard accepts without DNS (SPEC §11 wants public addresses). */
const PUBLIC_URL = 'https://93.184.216.34/hooks/autoheal';
const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe('webhook endpoints (SPEC §11 subscriptions)', () => {
  let t: TestApp;
  let tenantA: string;
  let tenantB: string;
  let scoped: { id: string; apiKey: string };
  const secrets = () => t.app.get(WebhookEndpointsService);
  const reveal = async (id: string) => (await secrets().signingSecrets(id)).map((s) => s.reveal());

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: 'off' });
    tenantA = (await makeTenant(t, { platform: 'slack' })).id;
    tenantB = (await makeTenant(t, { platform: 'slack' })).id;
    scoped = await makeApiKey(t, 'admin', [tenantA]);
  });
  afterAll(() => t.close());

  it('shows the secret once, on create; never in reads, never in the database in plaintext', async () => {
    const res = await t.call('POST', '/v1/webhook-endpoints', {
      url: PUBLIC_URL,
      events: ['connection.broken', 'connection.healed', 'connection.broken'],
      description: 'Teams relay',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: PUBLIC_URL, events: ['connection.broken', 'connection.healed'], tenantIds: ['*'], description: 'Teams relay', disabled: false });
    expect(res.body.secret).toMatch(WHSEC);
    expect(Buffer.from(res.body.secret.slice(6), 'base64')).toHaveLength(32);
    const { id, secret } = res.body as { id: string; secret: string };

    const one = await t.call('GET', `/v1/webhook-endpoints/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ ...res.body, secret: undefined, updatedAt: one.body.updatedAt });
    expect(JSON.stringify(one.body)).not.toContain('whsec_');
    const list = await t.call('GET', '/v1/webhook-endpoints');
    expect(list.body.items.map((e: { id: string }) => e.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');

    const [row] = await sql(t.databaseUrl, `SELECT secret, vault_key_id, created_by FROM webhook_endpoints WHERE id = $1`, [id]);
    expect(Buffer.isBuffer(row.secret)).toBe(true);
    expect(row.vault_key_id).toBe('k1');
    expect(await findPlaintext(t.databaseUrl, [secret, secret.slice(6)])).toEqual([]);
    expect(await reveal(id)).toEqual([secret]);
  });

  it('reads, patches and deletes', async () => {
    const { id } = (await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'], tenantIds: [tenantA, tenantB], description: 'x' })).body;
    const patched = await t.call('PATCH', `/v1/webhook-endpoints/${id}`, {
      url: 'https://93.184.216.34:8443/v2?relay=1',
      events: ['incident.opened'],
      tenantIds: [tenantB],
      description: null,
      disabled: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, url: 'https://93.184.216.34:8443/v2?relay=1', events: ['incident.opened'], tenantIds: [tenantB], description: null, disabled: true });
    expect((await t.call('GET', `/v1/webhook-endpoints/${id}`)).body).toEqual(patched.body);
    const again = await t.call('PATCH', `/v1/webhook-endpoints/${id}`, { disabled: false });
    expect(again.body).toMatchObject({ events: ['incident.opened'], tenantIds: [tenantB], disabled: false });

    expect((await t.call('DELETE', `/v1/webhook-endpoints/${id}`)).status).toBe(204);
    expect((await t.call('GET', `/v1/webhook-endpoints/${id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/v1/webhook-endpoints/${id}`)).status).toBe(404);
    expect(await sql(t.databaseUrl, `SELECT id FROM webhook_endpoints WHERE id = $1`, [id])).toEqual([]);
  });

  it('pages the list', async () => {
    for (let i = 0; i < 3; i++) await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'] });
    const first = await t.call('GET', '/v1/webhook-endpoints?limit=2');
    expect(first.body.items).toHaveLength(2);
    const next = await t.call('GET', `/v1/webhook-endpoints?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.status).toBe(200);
    expect(next.body.items[0].id > first.body.items[1].id).toBe(true);
  });

  it('rotates the secret: the new one once, the previous still live for 24 h', async () => {
    const created = (await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'] })).body as { id: string; secret: string };
    const before = Date.now();
    const rotated = await t.call('POST', `/v1/webhook-endpoints/${created.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(WHSEC);
    expect(rotated.body.secret).not.toBe(created.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(24 * 3600_000 - 5000);
    expect(expires - before).toBeLessThanOrEqual(24 * 3600_000 + 5000);
    expect(await reveal(created.id)).toEqual([rotated.body.secret, created.secret]);
    const [row] = await sql<{ until: Date }>(t.databaseUrl, `SELECT previous_secret_until AS until FROM webhook_endpoints WHERE id = $1`, [created.id]);
    expect(Math.abs(row.until.getTime() - expires)).toBeLessThan(5000);
    expect(await findPlaintext(t.databaseUrl, [created.secret, rotated.body.secret])).toEqual([]);
    expect(JSON.stringify((await t.call('GET', `/v1/webhook-endpoints/${created.id}`)).body)).not.toContain('whsec_');

    // A day later only the new secret signs.
    const dayLater = new Date(Date.now() + 24 * 3600_000 + 10_000);
    expect((await secrets().signingSecrets(created.id, dayLater)).map((s) => s.reveal())).toEqual([rotated.body.secret]);
    await sql(t.databaseUrl, `UPDATE webhook_endpoints SET previous_secret_until = now() - interval '1 second' WHERE id = $1`, [created.id]);
    expect(await reveal(created.id)).toEqual([rotated.body.secret]);

    // Rotating again keeps only the one before it.
    const third = (await t.call('POST', `/v1/webhook-endpoints/${created.id}/rotate-secret`)).body.secret as string;
    expect(await reveal(created.id)).toEqual([third, rotated.body.secret]);
  });

  it('keeps a scoped admin key inside its tenants', async () => {
    const global = (await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'] })).body as { id: string };
    const foreign = (await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'], tenantIds: [tenantB] })).body as { id: string };
    const shared = (await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'], tenantIds: [tenantA, tenantB] })).body as { id: string };
    const as = (method: string, path: string, body?: unknown) => t.call(method, path, body, scoped.apiKey);

    for (const tenantIds of [['*'], [tenantB], [tenantA, tenantB], ['00000000-0000-4000-8000-000000000000']]) {
      const res = await as('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'], tenantIds });
      expect(res.status, JSON.stringify(tenantIds)).toBe(403);
      expect(res.body.type).toBe('/problems/scope-exceeded');
    }
    const own = await as('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['prompt.failed'] });
    expect(own.status).toBe(201);
    expect(own.body.tenantIds).toEqual([tenantA]);

    const listed = (await as('GET', '/v1/webhook-endpoints')).body.items.map((e: { id: string }) => e.id);
    expect(listed).toEqual([own.body.id]);
    for (const other of [global.id, foreign.id, shared.id]) {
      expect((await as('GET', `/v1/webhook-endpoints/${other}`)).status).toBe(404);
      expect((await as('PATCH', `/v1/webhook-endpoints/${other}`, { disabled: true, url: 'https://127.0.0.1/' })).status).toBe(404);
      expect((await as('POST', `/v1/webhook-endpoints/${other}/rotate-secret`)).status).toBe(404);
      expect((await as('DELETE', `/v1/webhook-endpoints/${other}`)).status).toBe(404);
    }
    const widen = await as('PATCH', `/v1/webhook-endpoints/${own.body.id}`, { tenantIds: [tenantA, tenantB] });
    expect(widen.status).toBe(403);
    expect(widen.body.type).toBe('/problems/scope-exceeded');
    expect((await as('PATCH', `/v1/webhook-endpoints/${own.body.id}`, { tenantIds: ['*'] })).status).toBe(403);

    const rows = await sql(t.databaseUrl, `SELECT id, disabled, tenant_ids::text AS t FROM webhook_endpoints WHERE id = ANY($1::uuid[]) ORDER BY id`, [
      [global.id, foreign.id, shared.id, own.body.id],
    ]);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.disabled === false)).toBe(true);
    expect(rows.find((r) => r.id === own.body.id)?.t).toBe(`{${tenantA}}`);
    const relay = await makeApiKey(t, 'relay', ['*']);
    expect((await t.call('GET', '/v1/webhook-endpoints', undefined, relay.apiKey)).status).toBe(403);
    expect((await t.call('POST', '/v1/webhook-endpoints', { url: PUBLIC_URL, events: ['*'] }, relay.apiKey)).status).toBe(403);
  });
});
