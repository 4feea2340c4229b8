import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestApp, TestApp } from './support/app';

describe('foundation: health, docs, metrics, errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers liveness and readiness with the database up', async () => {
    expect((await t.call('GET', '/health/live', undefined, null)).status).toBe(200);
    const ready = await t.call('GET', '/health/ready', undefined, null);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', details: { database: 'up' } });
  });

  it('serves an OpenAPI 3 document listing every endpoint', async () => {
    const doc = await t.call('GET', '/docs-json', undefined, null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const validation = await new Validator().validate(doc.body);
    expect(validation.errors).toBeUndefined();
    expect(validation.valid).toBe(true);
    // Every route of SPEC §5 (browser pages aside), plus the audit trail.
    const routes = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/api-clients',
        'DELETE /v1/api-clients/{id}',
        'POST /v1/tenants',
        'GET /v1/tenants/{id}',
        'PATCH /v1/tenants/{id}',
        'POST /v1/connect-links',
        'POST /v1/connections',
        'GET /v1/connections',
        'GET /v1/connections/{id}',
        'DELETE /v1/connections/{id}',
        'POST /v1/connections/{id}/access-token',
        'POST /v1/connections/{id}/invalidate',
        'GET /v1/connections/{id}/audit',
        'GET /v1/incidents',
        'GET /v1/incidents/{id}',
        'GET /v1/platforms',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ]),
    );
    const ui = await fetch(`${t.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('exposes Prometheus metrics including the HTTP histogram by route', async () => {
    await t.call('GET', '/v1/tenants/00000000-0000-0000-0000-000000000000');
    const res = await fetch(`${t.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toMatch(/autoheal_http_request_duration_seconds_count\{method="GET",route="\/v1\/tenants\/:id",status="404"\} 1/);
  });

  it('echoes a sane request id and makes one otherwise', async () => {
    const given = await fetch(`${t.url}/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await fetch(`${t.url}/health/live`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
