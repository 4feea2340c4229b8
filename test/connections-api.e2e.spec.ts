import { fullScopes, makeApiKey, makeTenant } from './support/factories';
import { findPlaintext } from './support/plaintext-scan';
import { platformIds, startWorld, World } from './support/world';

describe('connections API: import, look-up, paging, tenant isolation', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  async function tenantWithImports(n: number, expiresInSeconds = 3600) {
    const ids = platformIds('webex');
    const tenant = await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
    const imported: { id: string; user: string; accessToken: string; refreshToken: string }[] = [];
    for (let i = 0; i < n; i++) {
      const user = `${ids.user}-${i}`;
      const grant = w.sb.control.mintGrant('webex', { tenantExternalId: ids.tenant, userExternalId: user, scopes: fullScopes('webex') });
      const res = await w.t.call('POST', '/v1/connections', {
        platform: 'webex',
        tenantExternalId: ids.tenant,
        userExternalId: user,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
        scopes: fullScopes('webex'),
      });
      expect(res.status).toBe(201);
      imported.push({ id: res.body.id, user, accessToken: grant.accessToken, refreshToken: grant.refreshToken });
    }
    return { tenant, ids, imported };
  }

  it('imports tokens (201), replaces them on the same natural key (200, same id), never refreshing by itself', async () => {
    const { ids, imported } = await tenantWithImports(1);
    const [first] = imported;
    const grant = w.sb.control.mintGrant('webex', { tenantExternalId: ids.tenant, userExternalId: first.user, scopes: fullScopes('webex') });
    const again = await w.t.call('POST', '/v1/connections', {
      platform: 'webex',
      tenantExternalId: ids.tenant,
      userExternalId: first.user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: '2099-01-01T00:00:00Z',
      refreshTokenExpiresAt: '2099-06-01T00:00:00Z',
      scopes: fullScopes('webex'),
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.id, status: 'active', accessTokenExpiresAt: '2099-01-01T00:00:00.000Z', refreshTokenExpiresAt: '2099-06-01T00:00:00.000Z' });
    const token = await w.t.call('POST', `/v1/connections/${first.id}/access-token`, {}, w.relayKey);
    expect(token.body.accessToken).toBe(grant.accessToken);
    expect(w.sb.control.tokenCalls('webex', { userExternalId: first.user, grantType: 'refresh_token' })).toBe(0);
    expect(await findPlaintext(w.t.databaseUrl, [grant.accessToken, grant.refreshToken, first.accessToken, first.refreshToken])).toEqual([]);
  });

  it('refuses imports for unknown tenants (422) and malformed bodies (400)', async () => {
    const base = { platform: 'webex', tenantExternalId: 'nope', userExternalId: 'u', accessToken: 'a', refreshToken: 'r', expiresAt: '2099-01-01T00:00:00Z', scopes: [] };
    expect((await w.t.call('POST', '/v1/connections', base)).status).toBe(422);
    expect((await w.t.call('POST', '/v1/connections', { ...base, expiresAt: 'tomorrow' })).status).toBe(400);
    expect((await w.t.call('POST', '/v1/connections', { ...base, expiresAt: '2099-01-01' })).status).toBe(400);
    expect((await w.t.call('POST', '/v1/connections', { ...base, scopes: 'a b' })).status).toBe(400);
    expect((await w.t.call('POST', '/v1/connections', base, w.relayKey)).status).toBe(403);
  });

  it('pages with a cursor and finds one connection by natural key', async () => {
    const { ids, imported } = await tenantWithImports(5);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await w.t.call('GET', `/v1/connections?tenantExternalId=${ids.tenant}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, w.relayKey);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(imported.map((c) => c.id).sort());
    const one = await w.t.call('GET', `/v1/connections?platform=webex&tenantExternalId=${ids.tenant}&userExternalId=${imported[3].user}`, undefined, w.relayKey);
    expect(one.body.items.map((c: { id: string }) => c.id)).toEqual([imported[3].id]);
    expect((await w.t.call('GET', '/v1/connections?limit=0', undefined, w.relayKey)).status).toBe(400);
    expect((await w.t.call('GET', '/v1/connections?limit=501', undefined, w.relayKey)).status).toBe(400);
    expect((await w.t.call('GET', '/v1/connections?cursor=garbage', undefined, w.relayKey)).status).toBe(400);
  });

  it('never lets a relay key read another tenant’s connection or token (404)', async () => {
    const mine = await tenantWithImports(1);
    const theirs = await tenantWithImports(1);
    const scoped = await makeApiKey(w.t, 'relay', [mine.tenant.id]);
    const own = await w.t.call('POST', `/v1/connections/${mine.imported[0].id}/access-token`, {}, scoped.apiKey);
    expect(own.status).toBe(200);
    for (const [method, path] of [
      ['GET', `/v1/connections/${theirs.imported[0].id}`],
      ['POST', `/v1/connections/${theirs.imported[0].id}/access-token`],
      ['POST', `/v1/connections/${theirs.imported[0].id}/invalidate`],
    ]) {
      const res = await w.t.call(method, path, method === 'POST' ? {} : undefined, scoped.apiKey);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(theirs.imported[0].accessToken);
    }
    const list = await w.t.call('GET', `/v1/connections?tenantExternalId=${theirs.ids.tenant}`, undefined, scoped.apiKey);
    expect(list.body.items).toEqual([]);
  });

  it('validates minValiditySeconds (400) and lists the platforms with their scopes', async () => {
    const { imported } = await tenantWithImports(1);
    for (const bad of [-1, 86401, 1.5, '300']) {
      expect((await w.t.call('POST', `/v1/connections/${imported[0].id}/access-token`, { minValiditySeconds: bad }, w.relayKey)).status).toBe(400);
    }
    const platforms = await w.t.call('GET', '/v1/platforms', undefined, w.relayKey);
    expect(platforms.body.items.map((p: { platform: string }) => p.platform)).toEqual(['microsoft', 'slack', 'webex', 'zoom']);
    const slack = platforms.body.items.find((p: { platform: string }) => p.platform === 'slack');
    expect(slack).toMatchObject({ enabled: true, requiredScopes: expect.arrayContaining(['chat:write', 'users:read.email']), botScopes: expect.arrayContaining(['im:write']) });
  });
});
