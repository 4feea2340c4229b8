import { scopeCatalog } from '../src/platforms/scope-catalog';
import { makeTenant } from './support/factories';
import { importGrant, sleep, waitFor } from './support/heal';
import { connectUser, platformIds, startWorld, World } from './support/world';

/**
 * SPEC §8 on Webex, through HTTP: Webex's token answers carry no `scope` (the sandbox answers
 * exactly as Webex documents, test/token-answers.spec.ts), so a connection holds the scopes it
 * asked for, and a refresh keeps the scopes stored. Reading "no scope" as "nothing granted" sent
 * every Webex connection to `blocked` / `consent_required` right after a successful connect.
 */
describe('Webex: a token answer without scope grants what was asked for', () => {
  let w: World;
  const requested = [...scopeCatalog('webex').requiredScopes];

  beforeAll(async () => {
    // Probes every second, so a drifted grant is refreshed by the heal probe within the test.
    w = await startWorld({ HEAL_PROBE_INTERVAL: '1s' });
  });
  afterAll(() => w.close());

  const connection = async (id: string) => (await w.t.call('GET', `/v1/connections/${id}`, undefined, w.relayKey)).body;
  const incidentsOf = async (tenantId: string) => (await w.t.call('GET', `/v1/incidents?tenantId=${tenantId}`)).body.items;

  it('connect → active with the requested scopes and no incident; a forced refresh keeps them', async () => {
    const user = await connectUser(w, 'webex');
    expect(w.sb.control.tokenCalls('webex', { userExternalId: user.userExternalId, grantType: 'authorization_code' })).toBe(1);

    const connected = await connection(user.connectionId);
    expect(connected).toMatchObject({ status: 'active', scopes: requested });
    expect(connected.incidentId ?? null).toBeNull();
    expect(connected.lastError ?? null).toBeNull();
    expect(await incidentsOf(user.tenantId)).toEqual([]);

    const first = await w.t.call('POST', `/v1/connections/${user.connectionId}/access-token`, { minValiditySeconds: 60 }, w.relayKey);
    expect(first.status).toBe(200);
    expect(first.body.scopes).toEqual(requested);

    // The relay saw a 401: refresh now, upstream, with a Webex answer that names no scopes.
    const refreshed = await w.t.call('POST', `/v1/connections/${user.connectionId}/invalidate`, undefined, w.relayKey);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.accessToken).not.toBe(first.body.accessToken);
    expect(refreshed.body.scopes).toEqual(requested);
    expect(w.sb.control.tokenCalls('webex', { userExternalId: user.userExternalId, grantType: 'refresh_token' })).toBe(1);

    const after = await connection(user.connectionId);
    expect(after).toMatchObject({ status: 'active', scopes: requested });
    expect(after.incidentId ?? null).toBeNull();
    expect(await incidentsOf(user.tenantId)).toEqual([]);
  });

  it('a refresh keeps the stored scopes, not the catalog: it neither widens nor wipes a grant', async () => {
    const ids = platformIds('webex');
    const tenant = await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
    w.sb.control.addUser('webex', { tenantExternalId: ids.tenant, userExternalId: ids.user, email: `${ids.user.toLowerCase()}@example.com` });
    // Imported with the grant's own scopes, in its own order, plus one beyond the catalog.
    const stored = [...requested].reverse().concat('spark:kms');
    const imported = await importGrant(w, 'webex', ids.tenant, { userExternalId: ids.user, scopes: stored });
    expect(imported.view).toMatchObject({ status: 'active', scopes: stored });

    const refreshed = await w.t.call('POST', `/v1/connections/${imported.id}/invalidate`, undefined, w.relayKey);
    expect(refreshed.status).toBe(200);
    expect(w.sb.control.tokenCalls('webex', { userExternalId: ids.user, grantType: 'refresh_token' })).toBe(1);
    expect(await connection(imported.id)).toMatchObject({ status: 'active', scopes: stored });
    expect(await incidentsOf(tenant.id)).toEqual([]);
  });

  it('a grant stored without a required scope is not healed by a refresh that names no scopes', { timeout: 30_000 }, async () => {
    const ids = platformIds('webex');
    const tenant = await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
    w.sb.control.addUser('webex', { tenantExternalId: ids.tenant, userExternalId: ids.user, email: `${ids.user.toLowerCase()}@example.com` });
    const narrow = requested.filter((s) => s !== 'spark:messages_write');
    const imported = await importGrant(w, 'webex', ids.tenant, { userExternalId: ids.user, scopes: narrow });
    expect(imported.view).toMatchObject({ status: 'blocked', lastError: { condition: 'consent_required', code: 'scope_missing' } });
    const [incident] = await incidentsOf(tenant.id);
    expect(incident).toMatchObject({ condition: 'consent_required', status: 'open', connectionIds: [imported.id] });

    // The heal probe refreshes the grant; Webex answers without `scope`, which keeps the stored
    // (narrow) grant: the refresh worked, but the scope is still missing, so nothing healed.
    const refreshes = () => w.sb.control.tokenCalls('webex', { userExternalId: ids.user, grantType: 'refresh_token' });
    await waitFor('a probe refresh', () => refreshes() >= 1, 15_000);
    await sleep(500);
    expect(await connection(imported.id)).toMatchObject({ status: 'blocked', scopes: narrow, incidentId: incident.id });
    expect((await w.t.call('GET', `/v1/incidents/${incident.id}`)).body.status).toBe('open');
  });
});
