import { startTestApp, TestApp } from './support/app';
import { makeTenant } from './support/factories';

/** Bad input gets a clear problem+json with a stable type, never a 5xx or a stack trace. */
describe('malformed requests', () => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await startTestApp();
    tenantId = (await makeTenant(t)).id;
  });
  afterAll(() => t.close());

  const tenant = { platform: 'slack', externalId: 'T0001', name: 'Acme', admins: [] };
  const cases: [string, string, string, unknown, number, string][] = [
    ['invalid JSON', 'POST', '/v1/tenants', '{"platform": "slack",', 400, 'malformed-request'],
    ['a JSON string instead of an object', 'POST', '/v1/tenants', '"hello"', 400, 'validation-failed'],
    ['an array instead of an object', 'POST', '/v1/tenants', '[1,2]', 400, 'validation-failed'],
    ['an empty body', 'POST', '/v1/tenants', '{}', 400, 'validation-failed'],
    ['an unknown platform', 'POST', '/v1/tenants', { ...tenant, platform: 'myspace' }, 400, 'validation-failed'],
    ['an unknown property', 'POST', '/v1/tenants', { ...tenant, color: 'red' }, 400, 'validation-failed'],
    ['a name of 201 characters', 'POST', '/v1/tenants', { ...tenant, name: 'x'.repeat(201) }, 400, 'validation-failed'],
    ['an empty externalId', 'POST', '/v1/tenants', { ...tenant, externalId: '' }, 400, 'validation-failed'],
    ['an externalId of 256 characters', 'POST', '/v1/tenants', { ...tenant, externalId: 'x'.repeat(256) }, 400, 'validation-failed'],
    ['a NUL in a name', 'POST', '/v1/tenants', { ...tenant, name: 'a\u0000b' }, 400, 'validation-failed'],
    ['admins not an array', 'POST', '/v1/tenants', { ...tenant, admins: 'bob' }, 400, 'validation-failed'],
    ['an admin without a user id', 'POST', '/v1/tenants', { ...tenant, admins: [{ email: 'a@b.example' }] }, 400, 'validation-failed'],
    ['an admin with a bad email', 'POST', '/v1/tenants', { ...tenant, admins: [{ userExternalId: 'U1', email: 'nope' }] }, 400, 'validation-failed'],
    ['a number where a string belongs', 'POST', '/v1/tenants', { ...tenant, name: 42 }, 400, 'validation-failed'],
    ['an unknown role', 'POST', '/v1/api-clients', { name: 'k', role: 'root', tenantIds: ['*'] }, 400, 'validation-failed'],
    ['an empty tenant scope', 'POST', '/v1/api-clients', { name: 'k', role: 'relay', tenantIds: [] }, 400, 'validation-failed'],
    ['a malformed tenant id in a scope', 'POST', '/v1/api-clients', { name: 'k', role: 'relay', tenantIds: ['not-a-uuid'] }, 422, 'unprocessable'],
    ['an unknown route', 'GET', '/v1/nothing-here', undefined, 404, 'not-found'],
    ['a missing bearer token', 'GET', '/v1/tenants/x', undefined, 401, 'unauthorized'],
  ];

  it.each(cases)('%s', async (_name, method, path, body, status, type) => {
    const key = type === 'unauthorized' ? null : undefined;
    const res = await t.call(method, path, body, key);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: `/problems/${type}`, status, title: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|QueryFailedError|SELECT /);
    if (type === 'validation-failed' && res.body.errors) {
      expect(res.body.errors.length).toBeGreaterThan(0);
      expect(res.body.errors[0]).toEqual({ field: expect.any(String), message: expect.any(String) });
    }
  });

  it('lists every failing field', async () => {
    const res = await t.call('POST', '/v1/tenants', { platform: 'x', name: '' });
    expect(res.status).toBe(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['platform', 'externalId', 'name', 'admins']));
  });

  it('answers 413 for a body over 1 MiB and loses nothing', async () => {
    const res = await t.call('PATCH', `/v1/tenants/${tenantId}`, { name: 'x'.repeat(1024 * 1024 + 10) });
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('/problems/payload-too-large');
    expect((await t.call('GET', `/v1/tenants/${tenantId}`)).body.name).toBe('Contoso');
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await fetch(`${t.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/xml' },
      body: '<tenant/>',
    });
    expect([401, 415]).toContain(res.status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
