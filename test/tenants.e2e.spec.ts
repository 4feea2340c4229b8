import { startTestApp, TestApp } from './support/app';
import { makeTenant } from './support/factories';

describe('tenants', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates, reads and updates a tenant', async () => {
    const created = await t.call('POST', '/v1/tenants', {
      platform: 'zoom',
      externalId: 'abcDEF123',
      name: 'Fabrikam',
      admins: [{ userExternalId: 'KDcuGIm1QgePTO8WbOqwIQ', email: 'it@fabrikam.example', displayName: 'IT' }],
      bot: { accountId: 'abcDEF123' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ platform: 'zoom', externalId: 'abcDEF123', name: 'Fabrikam', bot: { accountId: 'abcDEF123' } });
    expect(created.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const read = await t.call('GET', `/v1/tenants/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const patched = await t.call('PATCH', `/v1/tenants/${created.body.id}`, { admins: [{ userExternalId: 'NEWADMIN' }], name: 'Fabrikam Ltd' });
    expect(patched.status).toBe(200);
    expect(patched.body.admins).toEqual([{ userExternalId: 'NEWADMIN' }]);
    expect(patched.body.name).toBe('Fabrikam Ltd');
    expect(patched.body.bot).toEqual({ accountId: 'abcDEF123' });
    expect((await t.call('GET', `/v1/tenants/${created.body.id}`)).body.name).toBe('Fabrikam Ltd');
  });

  it('refuses a duplicate natural key with 409', async () => {
    const tenant = await makeTenant(t, { platform: 'webex' });
    const dup = await t.call('POST', '/v1/tenants', { platform: 'webex', externalId: tenant.externalId, name: 'again', admins: [] });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe('/problems/conflict');
  });

  it('accepts only the bot settings of the platform', async () => {
    const teams = await t.call('POST', '/v1/tenants', { platform: 'microsoft', externalId: 'tid-1', name: 'n', admins: [], bot: { accountId: 'x' } });
    expect(teams.status).toBe(400);
    expect(teams.body.errors).toEqual([expect.objectContaining({ field: 'bot.accountId' })]);
    const webex = await t.call('POST', '/v1/tenants', { platform: 'webex', externalId: 'org-1', name: 'n', admins: [], bot: { serviceUrl: 'https://x.example' } });
    expect(webex.status).toBe(400);
  });

  it('answers 404 for unknown or malformed ids', async () => {
    expect((await t.call('GET', '/v1/tenants/11111111-1111-1111-1111-111111111111')).status).toBe(404);
    expect((await t.call('GET', '/v1/tenants/nope')).status).toBe(404);
    expect((await t.call('PATCH', '/v1/tenants/nope', { name: 'x' })).status).toBe(404);
  });
});
