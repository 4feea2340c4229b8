import { fullScopes, makeTenant } from './support/factories';
import { platformIds, startWorld, World } from './support/world';

/** Relays call the token endpoint in many ways; every reasonable one works. */
describe('token call request bodies', () => {
  let w: World;
  let id: string;
  beforeAll(async () => {
    w = await startWorld();
    const ids = platformIds('zoom');
    await makeTenant(w.t, { platform: 'zoom', externalId: ids.tenant, bot: { accountId: ids.tenant } });
    const grant = w.sb.control.mintGrant('zoom', { tenantExternalId: ids.tenant, userExternalId: ids.user, scopes: fullScopes('zoom') });
    const res = await w.t.call('POST', '/v1/connections', {
      platform: 'zoom',
      tenantExternalId: ids.tenant,
      userExternalId: ids.user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 3_000_000).toISOString(),
      scopes: fullScopes('zoom'),
    });
    id = res.body.id;
  });
  afterAll(() => w.close());

  const post = (init: RequestInit) =>
    fetch(`${w.t.url}/v1/connections/${id}/access-token`, { method: 'POST', ...init, headers: { authorization: `Bearer ${w.relayKey}`, ...(init.headers ?? {}) } });

  it('accepts no body, an empty JSON body, null, and {}', async () => {
    const bare = await post({});
    expect(bare.status, await bare.clone().text()).toBe(200);
    const empty = await post({ headers: { 'content-type': 'application/json' }, body: '' });
    expect(empty.status, await empty.clone().text()).toBe(200);
    expect((await post({ headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    expect((await post({ headers: { 'content-type': 'application/json' }, body: 'null' })).status).toBe(200);
    expect((await post({ headers: { 'content-type': 'application/json' }, body: '{"minValiditySeconds":60}' })).status).toBe(200);
  });

  it('refuses a body that is not an object', async () => {
    for (const body of ['[]', '300', '"300"']) {
      const res = await post({ headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { type: string }).type, body).toMatch(/\/problems\/validation-failed$/);
    }
  });

  it('names each wrong field: an unknown property, a string, a fraction, out of range', async () => {
    const errors = async (body: unknown) => {
      const res = await post({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      return ((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
    };
    expect(await errors({ minValiditySeconds: 60, scope: 'all' })).toEqual(['scope']);
    expect(await errors({ minValiditySeconds: '60' })).toContain('minValiditySeconds');
    expect(await errors({ minValiditySeconds: 1.5 })).toContain('minValiditySeconds');
    expect(await errors({ minValiditySeconds: -1 })).toContain('minValiditySeconds');
    expect(await errors({ minValiditySeconds: 86_401 })).toContain('minValiditySeconds');
  });

  it('honours minValiditySeconds: more than the token has left refreshes it first', async () => {
    const token = async (body: string) => {
      const res = await post({ headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(200);
      return ((await res.json()) as { accessToken: string }).accessToken;
    };
    const first = await token('{"minValiditySeconds":0}');
    expect(await token('{"minValiditySeconds":0}')).toBe(first);
    expect(await token('{"minValiditySeconds":86400}')).not.toBe(first);
  });
});
