import { AutoHealClient, ReauthRequiredError, RateLimitedError, UnavailableError, type AutoHealEvent } from '../client/src/index.js';
import { slackError } from '../sandbox';
import { expireAccessToken, importGrant, sql, tenantWithAdmins, waitFor } from './support/heal';
import { Receiver } from './support/receiver';
import { connectUser, startWorld, World } from './support/world';

/**
 * The relay client (`client/`) against the real service and the sandbox: what the service
 * counted (its audit trail of token reads) is what the cache promises.
 */
describe('client: a relay through @autoheal/client', () => {
  let w: World;
  let client: AutoHealClient;
  beforeAll(async () => {
    w = await startWorld({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', FORCED_REFRESH_LIMIT: '2/1m', RATE_LIMIT: 'off' });
    client = new AutoHealClient({ baseUrl: w.t.url, apiKey: w.relayKey });
  });
  afterAll(() => w.close());

  /** Token reads the service served per connection, from its audit trail (flushed every 200 ms). */
  async function readsAtService(ids: string[], atLeast: number): Promise<Map<string, number>> {
    const rows = await waitFor('the audit trail', async () => {
      const r = await sql<{ id: string; n: number }>(
        w,
        `SELECT connection_id AS id, count(*)::int AS n FROM audit_events WHERE action = 'token.read' AND connection_id = ANY($1) GROUP BY connection_id`,
        [ids],
      );
      return r.reduce((a, b) => a + b.n, 0) >= atLeast ? r : undefined;
    });
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  it('64 workers asking 100,000 times for 100 connections: one service call per connection in the cache period', async () => {
    const tenant = await tenantWithAdmins(w, 'zoom', 1);
    const ids = await Promise.all(Array.from({ length: 100 }, async () => (await importGrant(w, 'zoom', tenant.externalId)).id));
    let asked = 0;
    const tokens = new Map<string, Set<string>>();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (asked < 100_000) {
          const id = ids[asked++ % ids.length];
          const t = await client.tokens.get(id, { minValiditySeconds: 300 });
          expect(t.connectionId).toBe(id);
          tokens.set(id, (tokens.get(id) ?? new Set()).add(t.accessToken));
        }
      }),
    );
    expect(asked).toBeGreaterThanOrEqual(100_000);
    const reads = await readsAtService(ids, 100);
    await new Promise((r) => setTimeout(r, 400)); // a late flush would show a second read
    expect([...(await readsAtService(ids, 100)).values()].every((n) => n === 1)).toBe(true);
    expect(reads.size).toBe(100);
    expect([...tokens.values()].every((s) => s.size === 1)).toBe(true);
  });

  it('withToken: the platform’s 401 invalidates once and retries once with a fresh token', async () => {
    const u = await connectUser(w, 'zoom');
    const me = (token: string) => fetch(`${w.sb.env.ZOOM_API_URL}/users/me`, { headers: { authorization: `Bearer ${token}` } });
    const first = await client.tokens.get(u.connectionId);
    expect(w.sb.control.revokeAccessTokens('zoom', u.userExternalId)).toBeGreaterThan(0);
    const seen: string[] = [];
    const res = await client.withToken(u.connectionId, (t) => {
      seen.push(t.accessToken);
      return me(t.accessToken);
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: u.userExternalId });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(first.accessToken);
    expect(seen[1]).not.toBe(first.accessToken);
    expect(w.sb.control.tokenCalls('zoom', { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(1);
    // Every token refused: the second 401 is the caller's, after exactly one more refresh.
    let tries = 0;
    const again = await client.withToken(u.connectionId, (t) => {
      tries++;
      w.sb.control.revokeAccessTokens('zoom', u.userExternalId);
      return me(t.accessToken);
    });
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ code: 124, message: 'Invalid access token.' });
    expect(tries).toBe(2);
    expect(w.sb.control.tokenCalls('zoom', { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(2);
  });

  it('typed errors: ReauthRequiredError names condition, audience and incident; UnavailableError and RateLimitedError carry Retry-After', async () => {
    const u = await connectUser(w, 'slack');
    w.sb.control.failRefreshes('slack', { userExternalId: u.userExternalId }, slackError('token_revoked'), 1);
    const broken = await client.tokens.invalidate(u.connectionId).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(ReauthRequiredError);
    expect(broken).toMatchObject({ status: 409, condition: 'grant_revoked', audience: 'user', incidentId: expect.any(String) });
    await expect(client.tokens.get(u.connectionId)).rejects.toBeInstanceOf(ReauthRequiredError);

    const z = await connectUser(w, 'zoom');
    w.sb.control.failRefreshes('zoom', { userExternalId: z.userExternalId }, { reset: true }, 1);
    await expireAccessToken(w, z.connectionId);
    const down = await client.tokens.get(z.connectionId).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(UnavailableError);
    expect((down as UnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);

    const x = await connectUser(w, 'webex');
    await client.tokens.invalidate(x.connectionId);
    await client.tokens.invalidate(x.connectionId);
    const limited = await client.tokens.invalidate(x.connectionId).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('connections, connect links, the events poller and webhooks.verify against the service’s own deliveries', async () => {
    const r = await Receiver.start();
    try {
      const endpoint = await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url, events: ['connection.created'] });
      expect(endpoint.status).toBe(201);
      const u = await connectUser(w, 'microsoft');
      expect(await client.connections.find({ platform: 'microsoft', tenantExternalId: u.tenantExternalId, userExternalId: u.userExternalId })).toMatchObject({
        id: u.connectionId,
      });
      expect((await client.connections.get(u.connectionId)).status).toBe('active');
      const link = await client.connectLinks.create({ platform: 'microsoft', tenantExternalId: u.tenantExternalId, userExternalId: 'someone-else' });
      expect(link.url).toMatch(/\/connect\/[A-Za-z0-9_-]{43}$/);

      const got = await waitFor('the delivery', () => r.accepted().find((d) => d.body.includes(u.connectionId)));
      const event = client.webhooks.verify(got.body, got.headers, endpoint.body.secret);
      expect(event).toMatchObject({ id: got.id, type: 'connection.created', data: { connectionId: u.connectionId } });
      expect(() => client.webhooks.verify(got.body.replace('active', 'revoked'), got.headers, endpoint.body.secret)).toThrow();

      const stop = new AbortController();
      const polled: AutoHealEvent[] = [];
      const cursor = await client.events.poll({ types: ['connection.created'], intervalMs: 100, signal: stop.signal }, (e) => {
        polled.push(e);
        if ('connectionId' in e.data && e.data.connectionId === u.connectionId) stop.abort();
      });
      expect(polled.find((e) => e.id === event.id)).toEqual(event);
      expect(typeof cursor).toBe('string');
    } finally {
      await r.close();
    }
  });
});
