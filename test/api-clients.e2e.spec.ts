import { Client } from 'pg';
import { startTestApp, TestApp } from './support/app';
import { makeApiKey, makeTenant } from './support/factories';

describe('API clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates a key shown once and stores only its hash', async () => {
    const created = await t.call('POST', '/v1/api-clients', { name: 'relay one', role: 'relay', tenantIds: ['*'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'relay one', role: 'relay', tenantIds: ['*'] });
    expect(created.body.apiKey).toMatch(/^ahk_[A-Za-z0-9_-]{43}$/);
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    const rows = await db.query('SELECT * FROM api_clients WHERE id = $1', [created.body.id]);
    await db.end();
    expect(JSON.stringify(rows.rows)).not.toContain(created.body.apiKey);
    expect(rows.rows[0].key_hash).toHaveLength(32);
  });

  it('lets an admin key manage keys and refuses a relay key (403) and no key (401)', async () => {
    const relay = await makeApiKey(t, 'relay');
    const admin = await makeApiKey(t, 'admin');
    expect((await t.call('POST', '/v1/api-clients', { name: 'x', role: 'relay', tenantIds: ['*'] }, admin.apiKey)).status).toBe(201);
    const forbidden = await t.call('POST', '/v1/api-clients', { name: 'x', role: 'relay', tenantIds: ['*'] }, relay.apiKey);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
    const anonymous = await t.call('POST', '/v1/api-clients', { name: 'x', role: 'relay', tenantIds: ['*'] }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await t.call('GET', '/v1/tenants/00000000-0000-0000-0000-000000000000', undefined, 'ahk_wrong')).status).toBe(401);
  });

  it('revokes a key at once', async () => {
    const admin = await makeApiKey(t, 'admin');
    const tenant = await makeTenant(t);
    expect((await t.call('GET', `/v1/tenants/${tenant.id}`, undefined, admin.apiKey)).status).toBe(200);
    expect((await t.call('DELETE', `/v1/api-clients/${admin.id}`)).status).toBe(204);
    expect((await t.call('GET', `/v1/tenants/${tenant.id}`, undefined, admin.apiKey)).status).toBe(401);
    expect((await t.call('DELETE', `/v1/api-clients/${admin.id}`)).status).toBe(404);
    expect((await t.call('DELETE', '/v1/api-clients/not-a-uuid')).status).toBe(404);
  });

  it('scopes keys to tenants: unknown ids are 422, out-of-scope tenants read as 404', async () => {
    const mine = await makeTenant(t);
    const other = await makeTenant(t);
    const unknown = await t.call('POST', '/v1/api-clients', { name: 'x', role: 'admin', tenantIds: [mine.id, '11111111-1111-1111-1111-111111111111'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.unknownTenantIds).toEqual(['11111111-1111-1111-1111-111111111111']);
    const mixed = await t.call('POST', '/v1/api-clients', { name: 'x', role: 'admin', tenantIds: ['*', mine.id] });
    expect(mixed.status).toBe(400);

    const scoped = await makeApiKey(t, 'admin', [mine.id]);
    expect(scoped).toBeDefined();
    const created = await t.call('POST', '/v1/api-clients', { name: 'scoped', role: 'admin', tenantIds: [mine.id] });
    expect(created.body.tenantIds).toEqual([mine.id]);
    expect((await t.call('GET', `/v1/tenants/${mine.id}`, undefined, created.body.apiKey)).status).toBe(200);
    const hidden = await t.call('GET', `/v1/tenants/${other.id}`, undefined, created.body.apiKey);
    expect(hidden.status).toBe(404);
    const patch = await t.call('PATCH', `/v1/tenants/${other.id}`, { name: 'taken over' }, created.body.apiKey);
    expect(patch.status).toBe(404);
    expect((await t.call('GET', `/v1/tenants/${other.id}`)).body.name).toBe('Contoso');
    const create = await t.call('POST', '/v1/tenants', { platform: 'zoom', externalId: 'acct-1', name: 'n', admins: [] }, created.body.apiKey);
    expect(create.status).toBe(403);
  });

  it('installs ADMIN_API_KEY as the bootstrap admin', async () => {
    const ok = await t.call('POST', '/v1/api-clients', { name: 'via bootstrap', role: 'relay', tenantIds: ['*'] });
    expect(ok.status).toBe(201);
  });
});
