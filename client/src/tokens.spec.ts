import { AutoHealClient } from './client.js';
import { AutoHealError, RateLimitedError, ReauthRequiredError, UnavailableError } from './errors.js';
import { isUnauthorized } from './tokens.js';

/**
 * The cache and single-flight rules of `tokens` on a fake clock, over a stand-in fetch that
 * answers as the service's token routes do (the e2e specs run the same client against the
 * real service). Each call is held until the test releases it, so overlap is exact.
 */
/** Marks a promise expected to reject as handled now (it rejects before the test awaits it). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function fakeService() {
  let clock = Date.parse('2025-01-01T00:00:00Z');
  let version = 0;
  let lifetimeSeconds = 3600;
  const calls: { path: string; body: unknown; release: (answer?: Answer) => void }[] = [];
  type Answer = { status: number; body: unknown; headers?: Record<string, string> };
  const token = () => ({
    connectionId: 'c1',
    accessToken: `tok-${++version}`,
    tokenType: 'Bearer',
    expiresAt: new Date(clock + lifetimeSeconds * 1000).toISOString(),
    scopes: ['a'],
  });
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise((resolve) => {
      const path = new URL(input instanceof Request ? input.url : input).pathname;
      calls.push({
        path,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
        release: (answer = { status: 200, body: token() }) =>
          resolve(new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } })),
      });
    });
  const client = new AutoHealClient({ baseUrl: 'http://autoheal.test/', apiKey: 'k', fetch, now: () => clock });
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    client,
    calls,
    settle,
    advance: (ms: number) => (clock += ms),
    setLifetime: (s: number) => (lifetimeSeconds = s),
    /** Releases every pending call (answering `answer`, or a fresh token) and lets the callers run. */
    async releaseAll(answer?: Answer) {
      await settle();
      for (const c of calls.splice(0)) c.release(answer);
      await settle();
    },
  };
}

describe('tokens.get', () => {
  it('serves from the cache until expiresAt − minValiditySeconds, then asks again', async () => {
    const s = fakeService();
    const first = s.client.tokens.get('c1', { minValiditySeconds: 300 });
    await s.releaseAll();
    expect((await first).accessToken).toBe('tok-1');
    expect(s.calls).toHaveLength(0);
    s.advance((3600 - 300) * 1000 - 1);
    expect((await s.client.tokens.get('c1', { minValiditySeconds: 300 })).accessToken).toBe('tok-1');
    // A stricter caller is not served a token with less left than it asks.
    const strict = s.client.tokens.get('c1', { minValiditySeconds: 301 });
    await s.settle();
    expect(s.calls.map((c) => [c.path, c.body])).toEqual([['/v1/connections/c1/access-token', { minValiditySeconds: 301 }]]);
    await s.releaseAll();
    expect((await strict).accessToken).toBe('tok-2');
    s.advance(3600 * 1000);
    const later = s.client.tokens.get('c1');
    await s.releaseAll();
    expect((await later).accessToken).toBe('tok-3');
  });

  it('one call in flight per connection: 1,000 concurrent callers share it, another connection has its own', async () => {
    const s = fakeService();
    const many = Array.from({ length: 1000 }, () => s.client.tokens.get('c1'));
    const elsewhere = s.client.tokens.get('c2');
    await s.settle();
    expect(s.calls.map((c) => c.path)).toEqual(['/v1/connections/c1/access-token', '/v1/connections/c2/access-token']);
    await s.releaseAll();
    expect(new Set((await Promise.all(many)).map((t) => t.accessToken))).toEqual(new Set(['tok-1']));
    expect((await elsewhere).accessToken).toBe('tok-2');
  });

  it('a failure reaches every caller that shared the call and is not cached; the next caller asks again', async () => {
    const s = fakeService();
    const shared = [s.client.tokens.get('c1'), s.client.tokens.get('c1')].map(handled);
    await s.releaseAll({ status: 503, body: { type: '/problems/upstream-unavailable', title: 'Down', status: 503 }, headers: { 'retry-after': '7' } });
    for (const p of shared) await expect(p).rejects.toMatchObject({ name: 'UnavailableError', retryAfterSeconds: 7, status: 503, type: '/problems/upstream-unavailable' });
    const again = s.client.tokens.get('c1');
    await s.settle();
    expect(s.calls).toHaveLength(1);
    await s.releaseAll();
    expect((await again).accessToken).toBe('tok-1');
  });

  it('a caller asking for more than the call in flight waits for it, then asks for its own if that token falls short', async () => {
    const s = fakeService();
    s.setLifetime(600);
    const lax = s.client.tokens.get('c1', { minValiditySeconds: 60 });
    const strict = s.client.tokens.get('c1', { minValiditySeconds: 900 });
    await s.settle();
    expect(s.calls).toHaveLength(1);
    await s.releaseAll(); // tok-1 lives 600 s: enough for 60, not for 900
    expect((await lax).accessToken).toBe('tok-1');
    expect(s.calls.map((c) => c.body)).toEqual([{ minValiditySeconds: 900 }]);
    await s.releaseAll();
    // The service's fresh token still lives less than asked: it is returned anyway (SPEC §5), and
    // shared for a second with callers asking no more, instead of one service call each.
    expect((await strict).accessToken).toBe('tok-2');
    expect((await s.client.tokens.get('c1', { minValiditySeconds: 900 })).accessToken).toBe('tok-2');
    s.advance(1_000);
    void s.client.tokens.get('c1', { minValiditySeconds: 900 });
    await s.settle();
    expect(s.calls).toHaveLength(1);
  });
});

describe('tokens.invalidate and withToken', () => {
  it('invalidate drops the entry, calls …/invalidate once for concurrent callers, and a read in flight does not put its older token back', async () => {
    const s = fakeService();
    const read = s.client.tokens.get('c1');
    await s.settle();
    const inv = [s.client.tokens.invalidate('c1'), s.client.tokens.invalidate('c1')];
    const joined = s.client.tokens.get('c1');
    await s.settle();
    expect(s.calls.map((c) => c.path)).toEqual(['/v1/connections/c1/access-token', '/v1/connections/c1/invalidate']);
    s.calls.shift()?.release(); // the read answers tok-1, after the invalidation started
    s.calls.shift()?.release(); // the invalidation answers tok-2
    expect((await read).accessToken).toBe('tok-1');
    expect((await Promise.all([...inv, joined])).map((t) => t.accessToken)).toEqual(['tok-2', 'tok-2', 'tok-2']);
    expect((await s.client.tokens.get('c1')).accessToken).toBe('tok-2');
  });

  it('withToken: a 401 (returned Response, thrown status or statusCode) invalidates once and retries once; the second 401 is surfaced', async () => {
    const s = fakeService();
    const seen: string[] = [];
    const refusing = (n: number) => (t: { accessToken: string }) => {
      seen.push(t.accessToken);
      if (seen.length <= n) throw Object.assign(new Error('platform said 401'), { statusCode: 401 });
      return new Response('ok', { status: 200 });
    };
    const once = s.client.withToken('c1', refusing(1));
    await s.releaseAll(); // the read
    await s.releaseAll(); // the invalidation
    expect((await once).status).toBe(200);
    expect(seen).toEqual(['tok-1', 'tok-2']);

    seen.length = 0;
    const twice = handled(s.client.withToken('c1', refusing(2)));
    await s.releaseAll();
    await expect(twice).rejects.toThrow('platform said 401');
    expect(seen).toEqual(['tok-2', 'tok-3']);

    // A returned 401 Response comes back to the caller the second time.
    const returned = s.client.withToken('c1', () => new Response('no', { status: 401 }));
    await s.releaseAll();
    expect((await returned).status).toBe(401);
    expect(s.calls).toHaveLength(0);
  });

  it("withToken: other failures pass through untouched; isUnauthorized overrides the rule; the service's own 401 is not the platform's", async () => {
    const s = fakeService();
    const p = handled(s.client.withToken('c1', () => Promise.reject(Object.assign(new Error('rate'), { status: 429 }))));
    await s.releaseAll();
    await expect(p).rejects.toThrow('rate');
    expect(s.calls).toHaveLength(0);

    const slack = s.client.withToken('c1', (t) => ({ ok: t.accessToken !== 'tok-1', error: 'invalid_auth' }), {
      isUnauthorized: (o) => (o as { error?: string; ok?: boolean }).ok === false && (o as { error?: string }).error === 'invalid_auth',
    });
    await s.releaseAll();
    expect(await slack).toEqual({ ok: true, error: 'invalid_auth' });

    const problem = { type: '/problems/unauthorized', title: 'A valid API key is required', status: 401 };
    expect(isUnauthorized(new AutoHealError(problem))).toBe(false);
    expect(isUnauthorized({ response: { status: 401 } })).toBe(true);
    expect(isUnauthorized({ response: { statusCode: 401 } })).toBe(true);
    expect(isUnauthorized({ status: 403 })).toBe(false);
    expect(isUnauthorized('401')).toBe(false);
  });

  it('problems become typed errors, with Retry-After in seconds or as a date', async () => {
    const s = fakeService();
    const answers = [
      { status: 409, body: { type: '/problems/reauth-required', title: 'Re-auth', status: 409, condition: 'grant_revoked', audience: 'user', incidentId: 'i1' } },
      {
        status: 429,
        body: { type: '/problems/rate-limited', title: 'Slow down', status: 429 },
        headers: { 'retry-after': new Date(Date.parse('2025-01-01T00:00:09Z')).toUTCString() },
      },
      { status: 404, body: { type: '/problems/not-found', title: 'Not found', status: 404, detail: 'No such connection.' } },
      { status: 502, body: '<html>bad gateway</html>' },
    ];
    const results: unknown[] = [];
    for (const answer of answers) {
      const p = s.client.tokens.get('c1').catch((e: unknown) => e);
      await s.releaseAll(answer);
      results.push(await p);
    }
    expect(results[0]).toBeInstanceOf(ReauthRequiredError);
    expect(results[0]).toMatchObject({ condition: 'grant_revoked', audience: 'user', incidentId: 'i1', status: 409 });
    expect(results[1]).toBeInstanceOf(RateLimitedError);
    expect(results[1]).toMatchObject({ retryAfterSeconds: 9 });
    expect(results[2]).toMatchObject({ name: 'AutoHealError', status: 404, type: '/problems/not-found', detail: 'No such connection.' });
    expect(results[3]).toBeInstanceOf(AutoHealError);
    expect(results[3]).not.toBeInstanceOf(UnavailableError);
    expect(results[3]).toMatchObject({ status: 502, type: 'about:blank' });
  });
});
