import { startTestApp, TestApp } from './support/app';
import { sql } from './support/heal';

/** SPEC §11 URL rules and bad input through HTTP; the address classifier itself is src/webhooks/url-guard.spec.ts. */
describe('webhook endpoint URLs and bad input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: 'off' });
  });
  afterAll(() => t.close());

  const refusedUrl = (res: { status: number; body: { type: string; errors?: { field: string }[] } }) => {
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('/problems/validation-failed');
    expect(res.body.errors?.map((e) => e.field)).toEqual(['url']);
  };

  it.each([
    'http://93.184.216.34/hook',
    'https://127.0.0.1/',
    'https://127.1/',
    'https://2130706433/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://localhost/',
    'https://localhost./',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/',
    'https://[fd00:ec2::254]/',
    'https://user:pw@93.184.216.34/',
    'https://nowhere.invalid/',
  ])('refuses %s by default, naming url', async (url) => {
    refusedUrl(await t.call('POST', '/v1/webhook-endpoints', { url, events: ['*'] }));
  });

  it('checks the URL again on PATCH and leaves the endpoint as it was', async () => {
    const created = await t.call('POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'] });
    expect(created.status).toBe(201);
    for (const url of ['https://127.0.0.1/', 'http://93.184.216.34/', 'https://localhost/x'])
      refusedUrl(await t.call('PATCH', `/v1/webhook-endpoints/${created.body.id}`, { url, disabled: true }));
    expect(await sql(t.databaseUrl, `SELECT url, disabled FROM webhook_endpoints WHERE id = $1`, [created.body.id])).toEqual([{ url: 'https://93.184.216.34/', disabled: false }]);
  });

  it('answers bad input with 4xx problems, never 500', async () => {
    const { id } = (await t.call('POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'] })).body as { id: string };
    const cases: [string, string, unknown, number][] = [
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: [] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['ping'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['connection.exploded'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*', 'connection.broken'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: 'connection.broken' }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 42, events: ['*'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'not a url', events: ['*'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: `https://93.184.216.34/${'a'.repeat(3000)}`, events: ['*'] }, 400],
      ['POST', '/v1/webhook-endpoints', { events: ['*'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], tenantIds: [] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], tenantIds: ['*', 'x'] }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], tenantIds: ['not-a-uuid'] }, 422],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], tenantIds: ['00000000-0000-4000-8000-000000000000'] }, 422],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], secret: 'whsec_mine' }, 400],
      ['POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], description: 'a\u0000b' }, 400],
      ['POST', '/v1/webhook-endpoints', '{"url":', 400],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { disabled: 'yes' }, 400],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { events: ['ping'] }, 400],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { id: '00000000-0000-4000-8000-000000000000' }, 400],
      ['PATCH', '/v1/webhook-endpoints/not-an-id', { disabled: true }, 404],
      ['GET', '/v1/webhook-endpoints/not-an-id', undefined, 404],
      ['DELETE', '/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000', undefined, 404],
      ['POST', '/v1/webhook-endpoints/not-an-id/rotate-secret', undefined, 404],
      ['GET', '/v1/webhook-endpoints?limit=0', undefined, 400],
      ['GET', '/v1/webhook-endpoints?cursor=bm9wZQ', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await t.call(method, path, body);
      const label = `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
      expect(res.status, label).toBe(status);
      expect(res.headers.get('content-type'), label).toContain('application/problem+json');
    }
    expect((await t.call('GET', `/v1/webhook-endpoints/${id}`)).body).toMatchObject({ events: ['*'], disabled: false });
  });
});

describe('with WEBHOOK_ALLOW_PRIVATE_URLS=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: 'off', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterAll(() => t.close());

  it('accepts http and loopback URLs, but still no credentials', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'https://localhost/', 'http://10.0.0.5/x']) {
      const res = await t.call('POST', '/v1/webhook-endpoints', { url, events: ['*'] });
      expect(res.status, `${url} ${JSON.stringify(res.body)}`).toBe(201);
      expect(res.body.url).toBe(url);
    }
    const creds = await t.call('POST', '/v1/webhook-endpoints', { url: 'http://user:pw@127.0.0.1/', events: ['*'] });
    expect(creds.status).toBe(400);
    expect(creds.body.errors).toEqual([{ field: 'url', message: expect.stringContaining('credentials') }]);
  });
});
