/**
 * `npm run bench:heal-storm`: 10,000 users of one Entra tenant hit a Conditional Access block
 * (AADSTS53003) at once, measured as a relay sees it. A relay in its own process
 * (bench/relay-child.ts) asks `POST /v1/connections/{id}/access-token` for every connection,
 * 64 calls in flight, every access token expired (so each call refreshes upstream), until each
 * answers 409; its webhook receiver counts the `connection.broken` events delivered. Targets:
 * every 409 within 30 s of the first call, 1 incident, 1 DM per admin, every event delivered
 * within 60 s. Baseline, same run: the same 10,000 token calls on the same connections while
 * their refreshes succeed (every call 200). The sandbox runs in a process of its own.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { microsoftError, MintedGrant } from '../sandbox';
import { TokenSealer } from '../src/connections/token-sealer';
import { scopeCatalog } from '../src/platforms/scope-catalog';
import { Secret } from '../src/vault/secret';
import { cpuSeconds, startBenchApp } from './harness';
import type { Deliveries, FromRelay, LoadResult, ToRelay } from './relay-child';
import { forkSandbox } from './sandbox-child';

const USERS = Number(process.env.STORM_USERS ?? 10_000);
const ADMINS = 2;
const IN_FLIGHT = 64;
/** How long the receiver is given for every event, from the storm's first call. */
const DELIVERY_CAP_MS = 120_000;
const SCOPES = [...scopeCatalog('microsoft').requiredScopes];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** `STORM_CPU_PROFILE=<file>`: a CPU profile of this process (the service) during the storm's token calls. */
async function profiled<T>(run: () => Promise<T>): Promise<T> {
  const file = process.env.STORM_CPU_PROFILE;
  if (!file) return run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

/** One question to the relay at a time: its next message of that kind is the answer. */
function ask<K extends 'receiver' | 'loaded' | 'deliveries'>(relay: ChildProcess, key: K, m?: ToRelay): Promise<Extract<FromRelay, Record<K, unknown>>[K]> {
  return new Promise((resolve) => {
    const on = (answer: FromRelay) => {
      if (!(key in answer)) return;
      relay.off('message', on);
      resolve((answer as Extract<FromRelay, Record<K, unknown>>)[key]);
    };
    relay.on('message', on);
    if (m) relay.send(m);
  });
}

type Cpu = { service: number; postgres: number; sandbox: number; relay: number };

/** CPU seconds so far of this process (the service), its PostgreSQL, the sandbox and the relay. */
function cpu(sandbox: number, relay: number): Cpu {
  const a = cpuSeconds(sandbox);
  const b = cpuSeconds(relay);
  return { service: a.self, postgres: a.postgres - b.other, sandbox: a.other, relay: b.other };
}

const cpuSpent = (from: Cpu, to: Cpu) => (Object.keys(from) as (keyof Cpu)[]).map((k) => `${k} ${(to[k] - from[k]).toFixed(1)}`).join(', ');

const statuses = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ') || 'none';

async function main(): Promise<void> {
  const sb = await forkSandbox();
  const relay = fork(path.join(__dirname, 'relay-child.js'), ['--child'], { stdio: 'inherit' });
  const receiver = await ask(relay, 'receiver');
  const bench = await startBenchApp('storm', { ...sb.env, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
  const { call } = bench;
  const [sandboxPid, relayPid] = [sb.child.pid ?? 0, relay.pid ?? 0];
  const db = new Client({ connectionString: bench.databaseUrl });
  await db.connect();
  const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0].n);
  const refreshCalls = async () => (await sb.control<{ count: number }>('microsoft', 'GET', 'token-calls?grantType=refresh_token')).count;
  const dmsTo = async (recipient: string) => (await sb.control<{ items: unknown[] }>('microsoft', 'GET', `messages?recipient=${recipient}`)).items.length;
  try {
    const tid = randomUUID();
    const admins = Array.from({ length: ADMINS }, () => ({ userExternalId: randomUUID() }));
    const tenant = await call('POST', '/v1/tenants', { platform: 'microsoft', externalId: tid, name: 'Storm Inc', admins, bot: { serviceUrl: sb.env.MICROSOFT_BOT_SERVICE_URL } });
    const key = await call('POST', '/v1/api-clients', { name: 'storm relay', role: 'relay', tenantIds: [tenant.body.id] });
    if (tenant.status !== 201 || key.status !== 201) throw new Error(`setup failed: ${tenant.status} ${key.status}`);
    const relayKey = String(key.body.apiKey);

    // Grants from the sandbox, sealed by the service's own TokenSealer and written in bulk, every
    // access token already expired (importing 10,000 through the API would measure the import).
    const t0 = Date.now();
    const users = Array.from({ length: USERS }, () => randomUUID());
    const grants: MintedGrant[] = [];
    for (let i = 0; i < users.length; i += 50) {
      const batch = users
        .slice(i, i + 50)
        .map((userExternalId) => sb.control<MintedGrant>('microsoft', 'POST', 'grants', { userExternalId, tenantExternalId: tid, scopes: SCOPES }));
      grants.push(...(await Promise.all(batch)));
    }
    const sealer = bench.app.get(TokenSealer);
    const ids = users.map(() => randomUUID());
    const writes = ids.map((id, i) =>
      sealer.seal(
        id,
        { accessToken: new Secret(grants[i].accessToken), refreshToken: new Secret(grants[i].refreshToken), accessTokenExpiresAt: new Date(), scopes: SCOPES, tokenType: 'Bearer' },
        null,
      ),
    );
    await db.query(
      `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, scopes, access_token, refresh_token,
         vault_key_id, access_token_expires_at, next_refresh_at)
       SELECT id, $1, 'microsoft', $2, u, 'active', $3, a, r, $4, now() - interval '1 minute', now() + interval '1 hour'
       FROM unnest($5::uuid[], $6::text[], $7::bytea[], $8::bytea[]) AS t(id, u, a, r)`,
      [tenant.body.id, tid, SCOPES, writes[0].vaultKeyId, ids, users, writes.map((w) => w.accessToken), writes.map((w) => w.refreshToken)],
    );
    await db.query('ANALYZE connections');
    console.log(`${USERS} connections with expired access tokens stored in ${seconds(Date.now() - t0)}`);
    const order = { url: bench.url, key: relayKey, ids, inFlight: IN_FLIGHT };

    // Baseline: the same token calls while every refresh succeeds.
    let calls = await refreshCalls();
    const cpu0 = cpu(sandboxPid, relayPid);
    const baseline: LoadResult = await ask(relay, 'loaded', { load: { ...order, expect: 200 } });
    const baselineCpu = cpuSpent(cpu0, cpu(sandboxPid, relayPid));
    const baselineUpstream = (await refreshCalls()) - calls;

    // The relay's receiver subscribes; then an hour passes (every token expired again) and CA blocks the tenant.
    // STORM_WEBHOOK=off (a diagnostic): no endpoint, to see what delivering costs the storm.
    const endpoint = await call('POST', '/v1/webhook-endpoints', { url: receiver, events: process.env.STORM_WEBHOOK === 'off' ? ['client.recovered'] : ['connection.broken'] });
    if (endpoint.status !== 201) throw new Error(`webhook endpoint: ${endpoint.status} ${JSON.stringify(endpoint.body)}`);
    relay.send({ secret: String(endpoint.body.secret) } satisfies ToRelay);
    await db.query(`UPDATE connections SET access_token_expires_at = now() - interval '1 minute'`);
    await sleep(1_100); // the token row cache (1 s) forgets the fresh tokens
    await sb.control('microsoft', 'POST', 'refresh-failures', { selector: { tenantExternalId: tid }, failure: microsoftError(53003) });

    if (process.env.BENCH_PG_STATS) await db.query(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()`);
    calls = await refreshCalls();
    const cpu1 = cpu(sandboxPid, relayPid);
    const stormAt = Date.now();
    const deadline = stormAt + DELIVERY_CAP_MS;
    // The admin DMs, watched from the storm's start (the sandbox answers from its own process).
    const dmAt = (async () => {
      while (Date.now() < deadline) {
        if ((await Promise.all(admins.map((a) => dmsTo(a.userExternalId)))).every((n) => n > 0)) return Date.now();
        await sleep(250);
      }
      return undefined;
    })();
    const storm: LoadResult = await profiled(() => ask(relay, 'loaded', { load: { ...order, expect: 409 } }));
    const stormCpu = cpuSpent(cpu1, cpu(sandboxPid, relayPid));
    if (process.env.BENCH_PG_STATS) {
      const top = await db.query(
        `SELECT calls, round(total_exec_time)::int AS ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`,
      );
      console.table(top.rows);
    }
    const stormUpstream = (await refreshCalls()) - calls;

    // The webhooks may still be arriving: wait for them, capped.
    let delivered: Deliveries = await ask(relay, 'deliveries', { deliveries: true });
    while (Date.now() < deadline && delivered.distinct < USERS) {
      await sleep(250);
      delivered = await ask(relay, 'deliveries', { deliveries: true });
    }
    const dmsAt = await dmAt;
    await sleep(1_000); // let a duplicate DM or delivery show itself
    delivered = await ask(relay, 'deliveries', { deliveries: true });
    const deliveredOk = delivered.distinct === USERS && delivered.lastAt !== undefined && delivered.lastAt - storm.firstAt < 60_000;
    const incidents = await count(`SELECT count(*) AS n FROM incidents`);
    const joined = await count(`SELECT count(*) AS n FROM connections WHERE status = 'blocked' AND incident_id IS NOT NULL`);
    const brokenEvents = await count(`SELECT count(*) AS n FROM events WHERE type = 'connection.broken'`);
    const dms = await Promise.all(admins.map((a) => dmsTo(a.userExternalId)));
    const userDms = (await Promise.all(users.slice(0, 100).map(dmsTo))).reduce((a, b) => a + b, 0);

    const stormMs = storm.lastAt - storm.firstAt;
    const baselineMs = baseline.lastAt - baseline.firstAt;
    console.log(
      `heal storm: ${USERS} users of one Microsoft tenant (msal-node), ${ADMINS} admins; the relay in its own process, ${IN_FLIGHT} token calls in flight; node ${process.version}`,
    );
    console.table([
      {
        measure: 'baseline: every token call 200 (refresh succeeds)',
        value: `${seconds(baselineMs)} (${Math.round((USERS / baselineMs) * 1000)}/s; p50 ${baseline.p50Ms} ms, p99 ${baseline.p99Ms} ms)`,
        detail: `answers ${statuses(baseline.answers)}; retried ${statuses(baseline.retried)}; ${baselineUpstream} upstream refreshes; CPU s: ${baselineCpu}`,
      },
      {
        measure: 'storm: first call → every token call 409',
        value: `${seconds(stormMs)} (${Math.round((USERS / stormMs) * 1000)}/s; p50 ${storm.p50Ms} ms, p99 ${storm.p99Ms} ms)`,
        detail: `answers ${statuses(storm.answers)}; retried ${statuses(storm.retried)}; ${stormUpstream} upstream refreshes; CPU s: ${stormCpu}`,
      },
      { measure: 'storm: first call → every admin DM sent', value: dmsAt ? seconds(dmsAt - storm.firstAt) : 'not sent', detail: '' },
      {
        measure: 'storm: first call → every connection.broken delivered',
        value: delivered.distinct === USERS && delivered.lastAt ? seconds(delivered.lastAt - storm.firstAt) : `${delivered.distinct} of ${USERS} delivered (timeout)`,
        detail: `${delivered.received} POSTs, ${delivered.distinct} distinct webhook-id, ${delivered.connections} connections, ${delivered.badSignature} bad signatures; ${brokenEvents} events logged`,
      },
      { measure: 'incidents / connections blocked in it / admin DMs / user DMs (100 sampled)', value: `${incidents} / ${joined} / ${dms.join('+')} / ${userDms}`, detail: '' },
    ]);
    if (storm.unexpected.length || baseline.unexpected.length) console.log('unexpected answers:', [...baseline.unexpected, ...storm.unexpected]);
    console.table([
      { target: `every token call 409 < 30 s from outside`, result: verdict(stormMs < 30_000 && storm.answers['409'] === USERS) },
      { target: `each connection its own upstream refresh (${USERS})`, result: verdict(stormUpstream >= USERS && storm.answers['409'] === USERS) },
      { target: 'exactly 1 incident, every connection in it', result: verdict(incidents === 1 && joined === USERS) },
      { target: `exactly 1 DM per admin, none to users`, result: verdict(dms.every((n) => n === 1) && userDms === 0) },
      { target: `${USERS} connection.broken events logged (once per transition)`, result: verdict(brokenEvents === USERS) },
      { target: `all ${USERS} connection.broken delivered < 60 s`, result: verdict(deliveredOk) },
      { target: 'baseline: every token call 200', result: verdict(baseline.answers['200'] === USERS) },
    ]);
  } finally {
    relay.disconnect();
    await db.end();
    await bench.close();
    await sb.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
