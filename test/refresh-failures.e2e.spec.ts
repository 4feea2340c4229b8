import { microsoftError, slackError } from '../sandbox';
import { fullScopes, makeTenant } from './support/factories';
import { platformIds, startWorld, World } from './support/world';

/** SPEC §3/§5: transient failures keep serving, back off, and answer 503; permanent ones 409. */
describe('refresh failures seen by a relay', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  async function imported(platform: 'slack' | 'microsoft', expiresInSeconds: number) {
    const ids = platformIds(platform);
    await makeTenant(w.t, { platform, externalId: ids.tenant, ...(platform === 'slack' ? { bot: { botToken: w.sb.control.slackBotToken(ids.tenant) } } : {}) });
    const grant = w.sb.control.mintGrant(platform, { tenantExternalId: ids.tenant, userExternalId: ids.user, scopes: fullScopes(platform) });
    const res = await w.t.call('POST', '/v1/connections', {
      platform,
      tenantExternalId: ids.tenant,
      userExternalId: ids.user,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
      scopes: fullScopes(platform),
    });
    return { id: res.body.id as string, user: ids.user, tenant: ids.tenant, accessToken: grant.accessToken };
  }
  const token = (id: string, min = 300) => w.t.call('POST', `/v1/connections/${id}/access-token`, { minValiditySeconds: min }, w.relayKey);

  it('serves the current token while it is valid when the platform fails transiently, then backs off', async () => {
    const c = await imported('slack', 120);
    w.sb.control.failRefreshes('slack', { userExternalId: c.user }, slackError('ratelimited', 30));
    const first = await token(c.id);
    expect(first.status).toBe(200);
    expect(first.body.accessToken).toBe(c.accessToken);
    const view = await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey);
    expect(view.body.status).toBe('active');
    expect(view.body.lastError).toMatchObject({ kind: 'transient' });
    expect(new Date(view.body.nextRefreshAt).getTime()).toBeGreaterThan(Date.now() + 20_000);
    // Within the backoff step no further upstream call is made.
    await token(c.id);
    await token(c.id);
    expect(w.sb.control.tokenCalls('slack', { userExternalId: c.user, grantType: 'refresh_token' })).toBe(1);
    expect(view.body.incidentId).toBeUndefined();
  });

  it('answers 503 with Retry-After when the token has expired and the platform is down; invalidate too', async () => {
    const c = await imported('microsoft', 1);
    await new Promise((r) => setTimeout(r, 1100));
    w.sb.control.failRefreshes('microsoft', { userExternalId: c.user }, { status: 503, body: '<html>Service Unavailable</html>' });
    const res = await token(c.id);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe('/problems/upstream-unavailable');
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    const inv = await w.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, w.relayKey);
    expect(inv.status).toBe(503);
    expect(Number(inv.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('retries a backed-off connection when its backoff ends, not at the next sweep tick (the sweep runs hourly here)', async () => {
    const c = await imported('microsoft', 1);
    await new Promise((r) => setTimeout(r, 1100));
    w.sb.control.failRefreshes('microsoft', { userExternalId: c.user }, { status: 503, body: '<html>Service Unavailable</html>' }, 1);
    const down = await token(c.id);
    expect(down.status).toBe(503);
    const retryAt = Date.now() + Number(down.headers.get('retry-after')) * 1000;
    // The outage is over (one failure only); nobody calls: the service retries by itself.
    const deadline = retryAt + 3_000;
    let view;
    do {
      await new Promise((r) => setTimeout(r, 100));
      view = (await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body;
    } while (!view.lastRefreshAt && Date.now() < deadline);
    expect(view).toMatchObject({ status: 'active', lastRefreshAt: expect.any(String) });
    expect(view.lastError).toBeUndefined();
    expect(w.sb.control.tokenCalls('microsoft', { userExternalId: c.user, grantType: 'refresh_token' })).toBe(2);
  });

  it('answers 409 reauth-required with condition and audience when the grant is dead', async () => {
    const c = await imported('microsoft', 60);
    w.sb.control.failRefreshes('microsoft', { userExternalId: c.user }, microsoftError(50173, { error: 'invalid_grant', suberror: 'bad_token' }));
    const res = await token(c.id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: '/problems/reauth-required', condition: 'grant_revoked', audience: 'user' });
    const view = await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey);
    expect(view.body).toMatchObject({ status: 'needs_reauth', nextRefreshAt: null, lastError: { kind: 'condition', condition: 'grant_revoked' } });
    const page = await fetch(`${w.t.url}/problems/reauth-required`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('re-sync');
  });

  it('a blocked tenant-wide condition marks the connection blocked (admin audience)', async () => {
    const c = await imported('microsoft', 60);
    w.sb.control.failRefreshes('microsoft', { userExternalId: c.user }, microsoftError(53003));
    const res = await token(c.id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin' });
    expect((await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body.status).toBe('blocked');
  });

  it('a misconfigured client keeps readiness 200, lists it, and serves still-valid tokens', async () => {
    const valid = await imported('slack', 3600);
    const c = await imported('slack', 60);
    w.sb.control.failRefreshes('slack', { userExternalId: c.user }, slackError('bad_client_secret'));
    const res = await token(c.id);
    expect(res.status).toBe(200);
    const ready = await w.t.call('GET', '/health/ready', undefined, null);
    expect(ready.status).toBe(200);
    expect(ready.body.details.clients.slack).toBe('misconfigured');
    expect((await token(valid.id, 60)).status).toBe(200);
    const inv = await w.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, w.relayKey);
    expect(inv.status).toBe(503);
    expect(inv.body.type).toBe('/problems/client-misconfigured');
    expect(Number(inv.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
