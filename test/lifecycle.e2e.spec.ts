import { Client } from 'pg';
import { PLATFORMS, SandboxPlatform } from '../sandbox';
import { connectUser, startWorld, World } from './support/world';

/** Per platform: connect through the real pages, read, force a refresh, rotate, sweep, revoke. */
describe.each(PLATFORMS)('lifecycle on %s', (platform: SandboxPlatform) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
    // Webex hands out 14-day tokens; an hour keeps "more validity than it has" meaningful.
    w.sb.control.setTokenLifetimes(platform, { accessTokenSeconds: 3600 });
  });
  afterAll(() => w.close());

  const tokenCall = (id: string, body: unknown = {}) => w.t.call('POST', `/v1/connections/${id}/access-token`, body, w.relayKey);

  it('connects a user through the real pages and serves a valid token without a refresh', async () => {
    const u = await connectUser(w, platform);
    const view = await w.t.call('GET', `/v1/connections/${u.connectionId}`, undefined, w.relayKey);
    expect(view.body).toMatchObject({ platform, status: 'active', tenantExternalId: u.tenantExternalId, userExternalId: u.userExternalId });
    expect(view.body.scopes.length).toBeGreaterThan(0);
    expect(JSON.stringify(view.body)).not.toMatch(/"(accessToken|refreshToken)"/);

    const before = w.sb.control.tokenCalls(platform, { userExternalId: u.userExternalId, grantType: 'refresh_token' });
    const read = await tokenCall(u.connectionId, { minValiditySeconds: 60 });
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(read.body).toMatchObject({ connectionId: u.connectionId, tokenType: 'Bearer', scopes: view.body.scopes });
    expect(typeof read.body.accessToken).toBe('string');
    expect(new Date(read.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 60_000);
    expect(w.sb.control.tokenCalls(platform, { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(before);
  });

  it('refreshes on demand, rotates over 5 refreshes with zero reuse, and invalidates', async () => {
    const u = await connectUser(w, platform);
    const first = await tokenCall(u.connectionId);
    let last = first.body.accessToken;
    for (let i = 0; i < 5; i++) {
      const forced = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
      expect(forced.status).toBe(200);
      expect(forced.body.accessToken).not.toBe(last);
      last = forced.body.accessToken;
    }
    expect(w.sb.control.tokenCalls(platform, { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(5);
    expect(w.sb.control.reuseEvents(platform).filter((e) => e.userExternalId === u.userExternalId)).toEqual([]);
    // A token asked for more validity than it has is refreshed first.
    const longer = await tokenCall(u.connectionId, { minValiditySeconds: 86400 });
    expect(longer.status).toBe(200);
    expect(w.sb.control.tokenCalls(platform, { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(6);
  });

  it('revokes: upstream where possible, crypto-shredded, and final', async () => {
    const u = await connectUser(w, platform);
    const revoked = await w.t.call('DELETE', `/v1/connections/${u.connectionId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect((await tokenCall(u.connectionId)).status).toBe(410);
    const db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
    const row = await db.query('SELECT access_token, refresh_token FROM connections WHERE id = $1', [u.connectionId]);
    await db.end();
    expect(row.rows[0]).toEqual({ access_token: null, refresh_token: null });
  });
});
