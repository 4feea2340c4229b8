/**
 * `npm run bench:board`: the admin board's overview and incidents list (SPEC §12) with 1,000
 * incidents stored, first beside 1,000 connections (the baseline, same run), then beside
 * 100,000. Target: both pages answer in < 300 ms with 100,000 connections. Times are taken at the
 * client on loopback (an upper bound of the server's time), 30 sequential requests per page
 * after 3 untimed ones, signed in as an operator (`*` admin key) through the board's own form.
 */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { ADMIN_KEY, startBenchApp } from './harness';

const INCIDENTS = 1_000;
const SIZES = [1_000, Number(process.env.BOARD_CONNECTIONS ?? 100_000)];
const RUNS = 30;
const TENANTS = 20;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** Connections up to `size`, spread over the tenants, active: the open incidents below mark their own users broken. */
async function fillConnections(ds: DataSource, tenants: string[], from: number, to: number): Promise<void> {
  await ds.query(
    `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, condition, scopes, access_token,
       refresh_token, vault_key_id, access_token_expires_at, next_refresh_at, last_refresh_at)
     SELECT gen_random_uuid(), t.id, 'microsoft', t.external_id, 'user-' || i,
       'active', NULL, ARRAY['User.Read'], decode(repeat(md5(i::text), 6), 'hex'), decode(repeat(md5((-i)::text), 6), 'hex'), 'k1',
       now() + interval '1 hour', now() + interval '50 minutes', now() - interval '10 minutes'
     FROM generate_series($2::int, $3::int) i JOIN tenants t ON t.id = ($1::uuid[])[1 + i % array_length($1::uuid[], 1)]`,
    [tenants, from, to],
  );
  // A day of refresh outcomes in the audit trail: one per connection, the chart's input.
  await ds.query(
    `INSERT INTO audit_events (at, actor, connection_id, tenant_id, action, outcome)
     SELECT now() - (i % 86400) * interval '1 second', 'refresher', c.id, c.tenant_id, 'token.refresh',
            CASE WHEN i % 20 = 0 THEN 'grant_revoked' WHEN i % 50 = 1 THEN 'transient' ELSE 'success' END
       FROM (SELECT id, tenant_id, row_number() OVER () AS i FROM connections WHERE user_external_id = ANY(
              SELECT 'user-' || g FROM generate_series($1::int, $2::int) g)) c`,
    [from, to],
  );
  await ds.query(`VACUUM ANALYZE connections`);
  await ds.query(`VACUUM ANALYZE audit_events`);
}

/** 1,000 user incidents: 900 resolved over the last 30 days, 100 open; two prompts each. */
async function fillIncidents(ds: DataSource): Promise<void> {
  await ds.query(
    `INSERT INTO incidents (tenant_id, platform, condition, audience, connection_id, status, detected_at, opened_at, resolved_at)
     SELECT c.tenant_id, 'microsoft', 'grant_revoked', 'user', c.id, CASE WHEN n <= 900 THEN 'resolved' ELSE 'open' END,
            now() - n * interval '40 minutes', now() - n * interval '40 minutes',
            CASE WHEN n <= 900 THEN now() - n * interval '40 minutes' + (n % 97) * interval '3 minutes' END
       FROM (SELECT id, tenant_id, row_number() OVER (ORDER BY id) AS n FROM connections LIMIT $1) c`,
    [INCIDENTS],
  );
  await ds.query(`INSERT INTO incident_connections (incident_id, connection_id) SELECT id, connection_id FROM incidents`);
  // The open incidents' users need re-auth and are in their incident, as heal leaves them.
  await ds.query(
    `UPDATE connections c SET status = 'needs_reauth', condition = 'grant_revoked', next_refresh_at = NULL, incident_id = i.id
       FROM incidents i WHERE i.status = 'open' AND i.connection_id = c.id`,
  );
  await ds.query(
    `INSERT INTO prompts (incident_id, tenant_id, platform, kind, recipient, dedupe_key, status, sent_at)
     SELECT i.id, i.tenant_id, 'microsoft', k.kind, 'admin-1', i.id || ':' || k.kind, CASE WHEN k.kind = 'initial' THEN 'sent' ELSE 'queued' END, now()
       FROM incidents i CROSS JOIN (VALUES ('initial'), ('confirmation')) k(kind)`,
  );
}

/** Signs in through the board's form: the login CSRF cookie and field, then the session cookie. */
async function signIn(url: string): Promise<string> {
  const form = await fetch(`${url}/board/sign-in`);
  const login = form.headers.getSetCookie()[0].split(';')[0];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${url}/board/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: login, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, key: ADMIN_KEY }).toString(),
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith('autoheal_board='));
  if (res.status !== 303 || !session) throw new Error(`sign-in answered ${res.status}`);
  return session.split(';')[0];
}

async function time(url: string, cookie: string): Promise<{ p50: number; p95: number; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { cookie } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    if (i >= 3) ms.push(performance.now() - t0);
    bytes = text.length;
  }
  return { p50: pct(ms, 0.5), p95: pct(ms, 0.95), bytes };
}

async function main(): Promise<void> {
  const bench = await startBenchApp('board', {});
  const ds = new DataSource(dataSourceOptions(bench.databaseUrl, 2));
  await ds.initialize();
  try {
    const tenants: string[] = [];
    for (let t = 0; t < TENANTS; t++) {
      const [row] = await ds.query<{ id: string }[]>(`INSERT INTO tenants (id, platform, external_id, name) VALUES (gen_random_uuid(), 'microsoft', $1, $2) RETURNING id`, [
        `tenant-${t}`,
        `Tenant ${t}`,
      ]);
      tenants.push(row.id);
    }
    const cookie = await signIn(bench.url);
    const rows: Record<string, string>[] = [];
    let stored = 0;
    for (const size of SIZES) {
      await fillConnections(ds, tenants, stored + 1, size);
      stored = size;
      if (size === SIZES[0]) await fillIncidents(ds);
      // Heal opens incidents of its own for the seeded broken connections that are in none: let it finish first, and count them as stored.
      for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
        const [open] = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM connections WHERE status IN ('needs_reauth', 'blocked') AND incident_id IS NULL`);
        if (open.n === 0) break;
      }
      const [incidents] = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM incidents`);
      for (const [name, path] of [
        ['overview', '/board'],
        ['incidents list', '/board/incidents'],
      ]) {
        const t = await time(bench.url + path, cookie);
        rows.push({
          page: name,
          connections: size.toLocaleString('en'),
          incidents: incidents.n.toLocaleString('en'),
          p50: `${t.p50.toFixed(1)} ms`,
          p95: `${t.p95.toFixed(1)} ms`,
          html: `${(t.bytes / 1024).toFixed(1)} KiB`,
        });
      }
    }
    console.log(`board: ${INCIDENTS} incidents seeded, ${TENANTS} tenants, ${RUNS} sequential requests per page, node ${process.version}`);
    console.table(rows);
    const worst = Math.max(...rows.filter((r) => r.connections === SIZES[1].toLocaleString('en')).map((r) => Number.parseFloat(r.p95)));
    console.log(`target < 300 ms at ${SIZES[1].toLocaleString('en')} connections (p95 of both pages ${worst.toFixed(1)} ms): ${worst < 300 ? 'met' : 'MISSED'}`);
  } finally {
    await ds.destroy();
    await bench.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
