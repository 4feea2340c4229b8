import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { makeApiKey } from './support/factories';
import { expireAccessToken, importGrant, sql, tenantWithAdmins } from './support/heal';
import { startWorld, World } from './support/world';

/** SPEC §5 rate limits: per API key (`RATE_LIMIT`) and per connection for forced refreshes (`FORCED_REFRESH_LIMIT`). */
describe('rate limits', () => {
  describe('RATE_LIMIT per key', () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({ RATE_LIMIT: '5/s' });
    });
    afterAll(() => w.close());

    it('allows a burst of twice the rate, then answers 429 problem+json with Retry-After and RateLimit headers', async () => {
      const key = (await makeApiKey(w.t, 'relay')).apiKey;
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await w.t.call('GET', '/v1/platforms', undefined, key));
      expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(200));
      const refused = answers[10];
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get('ratelimit-policy')).toBe('"per-key";q=5;w=1');
      expect(refused.headers.get('ratelimit')).toMatch(/^"per-key";r=0;t=\d+$/);
    });

    it('keeps keys apart: one key over its limit does not slow another', async () => {
      const noisy = (await makeApiKey(w.t, 'relay')).apiKey;
      const quiet = (await makeApiKey(w.t, 'relay')).apiKey;
      for (let i = 0; i < 10; i++) await w.t.call('GET', '/v1/platforms', undefined, noisy);
      expect((await w.t.call('GET', '/v1/platforms', undefined, noisy)).status).toBe(429);
      expect((await w.t.call('GET', '/v1/platforms', undefined, quiet)).status).toBe(200);
    });

    it('a refused token call reads no token and writes nothing', async () => {
      const tenant = await tenantWithAdmins(w, 'slack', 1);
      const { id } = await importGrant(w, 'slack', tenant.externalId);
      const key = (await makeApiKey(w.t, 'relay')).apiKey;
      for (let i = 0; i < 10; i++) await w.t.call('GET', '/v1/platforms', undefined, key);
      const refused = await w.t.call('POST', `/v1/connections/${id}/access-token`, {}, key);
      expect(refused.status).toBe(429);
      expect(JSON.stringify(refused.body)).not.toContain('accessToken');
      await new Promise((r) => setTimeout(r, 400)); // the audit batch interval is 200 ms
      expect(await sql(w, `SELECT 1 FROM audit_events WHERE connection_id = $1 AND action = 'token.read'`, [id])).toEqual([]);
    });

    it('refills at the rate', async () => {
      const key = (await makeApiKey(w.t, 'relay')).apiKey;
      for (let i = 0; i < 10; i++) await w.t.call('GET', '/v1/platforms', undefined, key);
      expect((await w.t.call('GET', '/v1/platforms', undefined, key)).status).toBe(429);
      await new Promise((r) => setTimeout(r, 450)); // 5/s: two tokens back
      expect((await w.t.call('GET', '/v1/platforms', undefined, key)).status).toBe(200);
    });
  });

  it('RATE_LIMIT=off disables it', async () => {
    const w = await startWorld({ RATE_LIMIT: 'off' });
    try {
      const answers = await Promise.all(Array.from({ length: 300 }, () => w.t.call('GET', '/v1/platforms', undefined, w.relayKey)));
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    } finally {
      await w.close();
    }
  });

  describe('FORCED_REFRESH_LIMIT per connection (default 10/1m)', () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld();
    });
    afterAll(() => w.close());

    const refreshes = (user: string) => w.sb.control.tokenCalls('zoom', { userExternalId: user, grantType: 'refresh_token' });

    it('14 invalidates in a minute cause at most 10 upstream refreshes; the rest answer 429 with Retry-After', async () => {
      const tenant = await tenantWithAdmins(w, 'zoom', 1);
      const { id, userExternalId } = await importGrant(w, 'zoom', tenant.externalId);
      const statuses: number[] = [];
      let refused;
      for (let i = 0; i < 14; i++) {
        const answer = await w.t.call('POST', `/v1/connections/${id}/invalidate`, undefined, w.relayKey);
        statuses.push(answer.status);
        if (answer.status === 429) refused = answer;
      }
      expect(statuses).toEqual([...Array(10).fill(200), ...Array(4).fill(429)]);
      expect(refreshes(userExternalId)).toBe(10);
      expect(refused?.body).toMatchObject({ type: '/problems/rate-limited' });
      const retryAfter = Number(refused?.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(50);
      expect(retryAfter).toBeLessThanOrEqual(60);

      // Over the limit, a token call asking for more validity than is left serves the current
      // (still valid) token instead of refreshing.
      const current = await w.t.call('POST', `/v1/connections/${id}/access-token`, { minValiditySeconds: 86400 }, w.relayKey);
      expect(current.status).toBe(200);
      expect(refreshes(userExternalId)).toBe(10);
      // And with the token expired, there is nothing to serve: 429, still no refresh.
      await expireAccessToken(w, id);
      await new Promise((r) => setTimeout(r, 1100)); // the token call's row cache holds a row for 1 s
      const expired = await w.t.call('POST', `/v1/connections/${id}/access-token`, {}, w.relayKey);
      expect(expired.status).toBe(429);
      expect(refreshes(userExternalId)).toBe(10);
    });

    it('callers that share one upstream refresh count once', async () => {
      const tenant = await tenantWithAdmins(w, 'zoom', 1);
      const { id, userExternalId } = await importGrant(w, 'zoom', tenant.externalId);
      // A slow platform, so that every call arrives while the first refresh is still in flight.
      w.sb.control.setLatency('zoom', 300);
      const together = await Promise.all(Array.from({ length: 30 }, () => w.t.call('POST', `/v1/connections/${id}/invalidate`, undefined, w.relayKey)));
      w.sb.control.setLatency('zoom', 0);
      expect(together.map((a) => a.status)).toEqual(Array(30).fill(200));
      expect(refreshes(userExternalId)).toBe(1);
      const after: number[] = [];
      for (let i = 0; i < 10; i++) after.push((await w.t.call('POST', `/v1/connections/${id}/invalidate`, undefined, w.relayKey)).status);
      expect(after).toEqual([...Array(9).fill(200), 429]);
      expect(refreshes(userExternalId)).toBe(10);
    });

    it('sweep refreshes never count', async () => {
      const tenant = await tenantWithAdmins(w, 'zoom', 1);
      const { id, userExternalId } = await importGrant(w, 'zoom', tenant.externalId);
      for (let i = 0; i < 10; i++) expect((await w.t.call('POST', `/v1/connections/${id}/invalidate`, undefined, w.relayKey)).status).toBe(200);
      await sql(w, `UPDATE connections SET next_refresh_at = now() - interval '1 second' WHERE id = $1`, [id]);
      expect(await w.t.app.get(RefreshSweep).sweep()).toBe(1);
      expect(refreshes(userExternalId)).toBe(11);
    });
  });
});
