import { ADMIN_KEY, startTestApp, TestApp } from './support/app';
import { makeApiKey, makeTenant } from './support/factories';

const nested = (depth: number) => '{"name":'.repeat(depth) + '"x"' + '}'.repeat(depth);

/** SPEC §5 input rules and page headers, for every route. */
describe('input rules and page headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('a query parameter given twice is 400', () => {
    it.each([['/v1/connections?platform=slack&platform=zoom'], ['/v1/incidents?status=open&status=resolved'], ['/v1/connections?cursor=a&cursor=b&limit=5']])(
      '%s',
      async (path) => {
        const res = await t.call('GET', path);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ type: '/problems/validation-failed', status: 400 });
        expect(res.body.detail).toMatch(/given more than once/);
      },
    );

    it('on the OAuth callback too (a browser page), before any state is looked up', async () => {
      const res = await fetch(`${t.url}/oauth/slack/callback?state=a&state=b&code=c`);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toMatch(/at .*\.js|stack/i);
    });

    it('once each is fine', async () => {
      expect((await t.call('GET', '/v1/connections?platform=slack&limit=5')).status).toBe(200);
    });
  });

  describe('JSON nested deeper than 32 levels', () => {
    it.each([
      ['100,000 levels', 100_000],
      ['33 levels', 33],
    ])('%s: 400 malformed-request before validation', async (_label, depth) => {
      for (const [method, path] of [
        ['POST', '/v1/tenants'],
        ['POST', '/v1/api-clients'],
        ['POST', '/v1/connect-links'],
        ['POST', '/v1/connections'],
      ]) {
        const res = await t.call(method, path, nested(depth));
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.body).toMatchObject({ type: '/problems/malformed-request' });
        expect(res.body.detail).toMatch(/deeper than 32/);
      }
    });

    it('32 levels reach validation (which names the field)', async () => {
      const res = await t.call('POST', '/v1/tenants', nested(32));
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('/problems/validation-failed');
    });

    it('brackets inside strings are no nesting', async () => {
      const res = await t.call('POST', '/v1/api-clients', { name: '['.repeat(150), role: 'relay', tenantIds: ['*'] });
      expect(res.status).toBe(201);
    });
  });

  describe('values a route does not expect never cause a 5xx', () => {
    it.each([
      ['GET', '/v1/connections?limit=abc'],
      ['GET', '/v1/connections?limit=1e309'],
      ['GET', '/v1/connections?unexpected=1'],
      ['GET', '/v1/connections?cursor=%00%ff'],
      ['GET', '/v1/connections/%00'],
      ['GET', '/v1/tenants/..%2f..%2fetc'],
      ['POST', '/v1/connections/not-a-uuid/access-token'],
      ['GET', '/v1/incidents?status[]=open'],
      ['GET', '/connect/%E0%A4%A'],
      ['GET', '/oauth/slack/callback?state=' + 'x'.repeat(5000)],
      ['GET', '/oauth/slack/callback?error=' + encodeURIComponent('<script>alert(1)</script>')],
    ])('%s %s', async (method, path) => {
      const res = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-forwarded-for': 'a'.repeat(2000), accept: 'text/html;q=weird' } });
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(500);
      expect(await res.text()).not.toContain('<script>alert(1)</script>');
    });
  });

  describe('page headers', () => {
    it('every HTML answer carries the CSP without inline script, nosniff, no-referrer and frame-ancestors none', async () => {
      for (const path of ['/connect/nope', '/oauth/slack/callback?state=x', '/problems/rate-limited', '/docs']) {
        const res = await fetch(t.url + path);
        expect(res.headers.get('content-type'), path).toContain('text/html');
        const csp = res.headers.get('content-security-policy') ?? '';
        expect(csp, path).toContain("frame-ancestors 'none'");
        expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-inline'/);
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
        expect(res.headers.get('strict-transport-security'), path).toBeNull(); // PUBLIC_BASE_URL is http here
      }
    });

    it('every JSON answer carries nosniff, errors included', async () => {
      for (const [path, key] of [
        ['/v1/platforms', ADMIN_KEY],
        ['/v1/platforms', null],
        ['/health/live', null],
        ['/v1/nothing-here', ADMIN_KEY],
      ] as const) {
        const res = await t.call('GET', path, undefined, key);
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
    });

    it('Strict-Transport-Security whenever PUBLIC_BASE_URL is https', async () => {
      const https = await startTestApp({ PUBLIC_BASE_URL: 'https://autoheal.example' });
      try {
        for (const path of ['/v1/platforms', '/connect/nope', '/health/live']) {
          const res = await https.call('GET', path);
          expect(res.headers.get('strict-transport-security'), path).toMatch(/^max-age=31536000/);
        }
      } finally {
        await https.close();
      }
    });
  });

  describe('readiness', () => {
    it('shows anonymous callers and scoped keys no vault key ids; a * admin key sees them', async () => {
      const anonymous = await t.call('GET', '/health/ready', undefined, null);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.details.vault).toEqual({ status: 'up' });
      expect(JSON.stringify(anonymous.body)).not.toContain('k1');
      const wrong = await t.call('GET', '/health/ready', undefined, 'ahk_not-a-key');
      expect(wrong.status).toBe(200);
      expect(wrong.body.details.vault).toEqual({ status: 'up' });
      const tenant = await makeTenant(t);
      const scoped = await makeApiKey(t, 'admin', [tenant.id]);
      expect((await t.call('GET', '/health/ready', undefined, scoped.apiKey)).body.details.vault).toEqual({ status: 'up' });
      const relay = await makeApiKey(t, 'relay');
      expect((await t.call('GET', '/health/ready', undefined, relay.apiKey)).body.details.vault).toEqual({ status: 'up' });
      const operator = await t.call('GET', '/health/ready');
      expect(operator.body.details.vault).toMatchObject({ status: 'up', activeKeyId: 'k1' });
    });
  });
});
