/**
 * `npm run bench:claim-scale`: the sweep's claim (`ConnectionsRepository.claimDue`, `FOR
 * UPDATE SKIP LOCKED`, one batch of REFRESH_CONCURRENCY rows) with 10,000 and with
 * 1,000,000 connections stored, the same 1,000 of them due in both. Baseline, same run: the
 * 10,000-row database. Target: the 1,000,000-row claim takes at most 1.2× as long, which only
 * an index walk in due order achieves (a scan grows with the table).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ConnectionsRepository } from '../src/connections/connections.repository';
import { LEASE_MS } from '../src/connections/refresh/refresher';
import { dataSourceOptions } from '../src/database/data-source-options';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';

const DUE = 1_000;
const SIZES = [10_000, Number(process.env.CLAIM_LARGE ?? 1_000_000)];
const BATCH = 64; // REFRESH_CONCURRENCY's default: the sweep's first claim of a sweep
const RUNS = Number(process.env.CLAIM_RUNS ?? 31);
const OWNER = 'bench-host:1:claim';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Rows are written straight with SQL: the ciphertexts are arbitrary bytes (never opened
 * here) of a sealed token's order of size in the heap, since real 2 KiB tokens live in TOAST
 * and do not widen the rows the claim reads. One row in ten is not active (needs re-auth,
 * no next refresh), like a real table; the rest of the not-due rows are due within a week.
 */
async function fill(ds: DataSource, size: number): Promise<void> {
  const [tenant] = await ds.query<{ id: string }[]>(`INSERT INTO tenants (platform, external_id, name) VALUES ('microsoft', 'claim-scale', 'Claim Scale') RETURNING id`);
  for (let from = 1; from <= size; from += 100_000) {
    await ds.query(
      `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, condition, scopes, access_token,
         refresh_token, vault_key_id, access_token_expires_at, next_refresh_at, last_refresh_at)
       SELECT gen_random_uuid(), $1, 'microsoft', 'claim-scale', 'user-' || i,
         CASE WHEN i > $4 AND i % 10 = 0 THEN 'needs_reauth' ELSE 'active' END,
         CASE WHEN i > $4 AND i % 10 = 0 THEN 'grant_revoked' END,
         ARRAY['User.Read', 'offline_access'], decode(repeat(md5(i::text), 6), 'hex'), decode(repeat(md5((-i)::text), 6), 'hex'), 'k1',
         now() + interval '1 hour',
         CASE WHEN i <= $4 THEN now() - (i % 3600) * interval '1 second'
              WHEN i % 10 = 0 THEN NULL
              ELSE now() + (60 + i % 604800) * interval '1 second' END,
         now() - interval '1 hour'
       FROM generate_series($2::int, $3::int) i`,
      [tenant.id, from, Math.min(size, from + 99_999), DUE],
    );
  }
  await ds.query(`VACUUM ANALYZE connections`);
}

/** One timed claim through the repository, then its leases handed back so every run finds the same due rows. */
async function timedClaim(ds: DataSource, repo: ConnectionsRepository): Promise<number> {
  const t0 = process.hrtime.bigint();
  const rows = await repo.claimDue(OWNER, BATCH, LEASE_MS);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (rows.length !== BATCH) throw new Error(`claimed ${rows.length} rows, expected ${BATCH}`);
  await ds.query(`UPDATE connections SET lease_owner = NULL, lease_until = NULL, refresh_started_at = NULL WHERE lease_owner = $1`, [OWNER]);
  return ms;
}

/** The repository's own claim statement (captured, not copied) under EXPLAIN ANALYZE, rolled back. */
async function plan(ds: DataSource): Promise<PlanNode> {
  let seen: { sql: string; params: unknown[] } | undefined;
  const recorder = { query: (sql: string, params: unknown[] = []) => ((seen = { sql, params }), Promise.resolve([])) };
  // A stand-in that only records: the repository needs nothing else from its DataSource here.
  await new ConnectionsRepository(recorder as unknown as DataSource).claimDue(OWNER, BATCH, LEASE_MS);
  if (!seen) throw new Error('the claim ran no SQL');
  const runner = ds.createQueryRunner();
  try {
    await runner.startTransaction();
    const [row] = (await runner.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${seen.sql}`, seen.params)) as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
    return row['QUERY PLAN'][0].Plan;
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

function describe(node: PlanNode): string[] {
  const at = node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const rows = node['Actual Rows'] !== undefined ? ` (rows ${node['Actual Rows']}×${node['Actual Loops']})` : '';
  return [`${node['Node Type']}${at}${rows}`, ...(node.Plans ?? []).flatMap(describe)];
}

const blocks = (node: PlanNode): number => (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-claim-'));
  const pg = await startEmbeddedPostgres({ dataDir, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_wal_size: '4GB' } });
  const sources: DataSource[] = [];
  try {
    // One database per size in the same cluster, so the two are measured in alternation and
    // load from other work on the machine falls on both alike.
    const admin = new DataSource(dataSourceOptions(pg.url, 1));
    await admin.initialize();
    for (const size of SIZES) await admin.query(`CREATE DATABASE claim_${size}`);
    await admin.destroy();
    for (const size of SIZES) {
      const url = pg.url.replace(/\/postgres$/, `/claim_${size}`);
      await runMigrations(url);
      const options = dataSourceOptions(url, 2);
      // Filling a million rows and vacuuming them outlasts the service's 10 s statement timeout.
      const ds = new DataSource({ ...options, extra: { ...(options.extra as Record<string, unknown>), statement_timeout: 600_000 } });
      await ds.initialize();
      sources.push(ds);
      const t0 = Date.now();
      await fill(ds, size);
      console.log(`${size.toLocaleString('en')} connections stored (${DUE} due) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const repos = sources.map((ds) => new ConnectionsRepository(ds));
    const times: number[][] = SIZES.map(() => []);
    for (let run = -5; run < RUNS; run++) {
      // Which size goes first alternates too: the first claim after a pause pays a little more.
      for (const i of run % 2 ? [1, 0] : [0, 1]) {
        const ms = await timedClaim(sources[i], repos[i]);
        if (run >= 0) times[i].push(ms);
      }
    }
    const plans = await Promise.all(sources.map(plan));
    const medians = times.map(median);
    const ratio = medians[1] / medians[0];

    console.log(`claim scale: claimDue of ${BATCH} rows, ${DUE} due, median of ${RUNS} alternating runs, embedded PostgreSQL (fsync off), node ${process.version}`);
    console.table(
      SIZES.map((size, i) => ({
        'connections stored': size.toLocaleString('en'),
        role: i === 0 ? 'baseline' : 'measured',
        'median claim ms': medians[i].toFixed(2),
        'p90 claim ms': [...times[i]].sort((a, b) => a - b)[Math.floor(times[i].length * 0.9)].toFixed(2),
        'buffers touched': blocks(plans[i]),
      })),
    );
    console.table([
      { measure: '1,000,000 / 10,000 median claim time', value: ratio.toFixed(2) },
      { measure: 'target ≤ 1.2', value: ratio <= 1.2 ? 'met' : 'MISSED' },
    ]);
    for (const [i, size] of SIZES.entries()) console.log(`plan at ${size.toLocaleString('en')}:\n  ${describe(plans[i]).join('\n  ')}`);
    if (plans.some((p) => describe(p).some((n) => n.startsWith('Seq Scan')))) console.log('WARNING: a sequential scan is in the plan');
  } finally {
    await Promise.all(sources.map((ds) => ds.destroy()));
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
