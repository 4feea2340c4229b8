import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { startTestApp, TestApp } from './support/app';
import { makeTenant } from './support/factories';

/** SPEC §5: while PostgreSQL cannot be reached, and after it is back. */
describe('database outage', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-outage-'));
  let pg: EmbeddedDatabase;
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres({ dataDir });
    port = Number(new URL(pg.url).port);
    t = await startTestApp({}, { databaseUrl: pg.url });
  });
  afterAll(async () => {
    await t.close();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stays live, reports not ready, answers 503 problems, and recovers without a restart', async () => {
    const tenant = await makeTenant(t);
    await pg.stop();

    expect((await t.call('GET', '/health/live', undefined, null)).status).toBe(200);
    const t0 = Date.now();
    const ready = await t.call('GET', '/health/ready', undefined, null);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(ready.status).toBe(503);
    expect(ready.body.details.database).toBe('down');

    // A new key is not cached: the guard's query fails, which must not read as 401.
    const created = await t.call('POST', '/v1/api-clients', { name: 'x', role: 'relay', tenantIds: ['*'] }, 'ahk_not_cached_key');
    expect(created.status).toBe(503);
    const read = await t.call('GET', `/v1/tenants/${tenant.id}`);
    expect(read.status).toBe(503);
    expect(read.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(read.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(read.body.type).toBe('/problems/service-unavailable');

    pg = await startEmbeddedPostgres({ dataDir, port });
    const back = Date.now();
    let status = 0;
    while (Date.now() - back < 15_000 && status !== 200) {
      status = (await t.call('GET', `/v1/tenants/${tenant.id}`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect((await t.call('GET', '/health/ready', undefined, null)).status).toBe(200);
  }, 60_000);
});
