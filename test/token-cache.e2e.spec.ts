import { ConnectionsRepository } from '../src/connections/connections.repository';
import { fullScopes, makeApiKey, makeTenant } from './support/factories';
import { platformIds, startWorld, World } from './support/world';

/** A hot connection's cache entry expiring must not send one query per waiting token call. */
describe('token calls that miss the cache together', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  it('share one read of the row, and a key scoped to another tenant still gets 404', async () => {
    const ids = platformIds('webex');
    await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
    const other = await makeTenant(w.t, { platform: 'webex', externalId: platformIds('webex').tenant });
    const outsider = await makeApiKey(w.t, 'relay', [other.id]);
    const grant = w.sb.control.mintGrant('webex', { tenantExternalId: ids.tenant, userExternalId: ids.user, scopes: fullScopes('webex') });
    const imported = await w.t.call('POST', '/v1/connections', {
      platform: 'webex',
      tenantExternalId: ids.tenant,
      userExternalId: ids.user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      scopes: fullScopes('webex'),
    });
    expect(imported.status).toBe(201);
    // The import put the row in the cache; let that entry expire (1 s) so the calls below all miss.
    await new Promise((r) => setTimeout(r, 1100));

    const repo = w.t.app.get(ConnectionsRepository);
    const findById = repo.findById.bind(repo);
    const scopes: string[] = [];
    repo.findById = (id, scope, db) => {
      scopes.push(scope === 'all' ? '*' : scope.join(','));
      return findById(id, scope, db);
    };
    try {
      const path = `/v1/connections/${imported.body.id}/access-token`;
      const [mine, theirs] = await Promise.all([
        Promise.all(Array.from({ length: 100 }, () => w.t.call('POST', path, {}, w.relayKey))),
        Promise.all(Array.from({ length: 20 }, () => w.t.call('POST', path, {}, outsider.apiKey))),
      ]);
      expect(mine.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect(mine.every((r) => r.body.accessToken === grant.accessToken)).toBe(true);
      expect(theirs.map((r) => r.status)).toEqual(Array(20).fill(404));
    } finally {
      repo.findById = findById;
    }
    // One read for the relay's scope; the outsider's calls read under their own scope or are refused from the cache.
    expect(scopes.filter((s) => s === '*')).toHaveLength(1);
    expect(scopes.filter((s) => s !== '*').length).toBeLessThan(20);
  });
});
