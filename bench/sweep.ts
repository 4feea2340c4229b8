/**
 * `npm run bench:sweep`: 100,000 connections due at once, refreshed by the real RefreshSweep
 * against the sandbox answering every token call after 50 ms. Baseline, same run: the same
 * number of refresh calls made straight with fetch at the same concurrency (the sandbox's
 * ceiling). Targets: ≥ 1,000 refreshes/s, and the service's RSS under 300 MB throughout.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MintedGrant, startSandbox } from '../sandbox';
import { ConnectionsMetrics } from '../src/connections/connections.metrics';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { TokenSealer } from '../src/connections/token-sealer';
import { scopeCatalog } from '../src/platforms/scope-catalog';
import { Secret } from '../src/vault/secret';
import { cpuSeconds, rssMb, startBenchApp } from './harness';

const N = Number(process.env.SWEEP_CONNECTIONS ?? 100_000);
/**
 * Zoom by default: it rotates the refresh token on every refresh (the strictest commit path) and
 * it is a provider description run by the one RFC 6749 adapter (SPEC §13), so the figure is the
 * sweep's rather than a client library's. `SWEEP_PLATFORM=microsoft` adds msal-node's own cost.
 */
const PLATFORM = process.env.SWEEP_PLATFORM === 'microsoft' ? 'microsoft' : 'zoom';
const LATENCY_MS = 50;
const CHUNK = 5_000;
const SCOPES = [...scopeCatalog(PLATFORM).requiredScopes];

type ToChild = { mint: { prefix: string; from: number; to: number; tenant: string } } | { calls: true };
type ToParent = { env: Record<string, string> } | { grants: MintedGrant[] } | { calls: number };

/**
 * The sandbox runs in a child process, as a real platform runs elsewhere: its CPU and its
 * memory (every grant it issued) are then not charged to the service measured here.
 */
async function sandboxChild(): Promise<void> {
  const sb = await startSandbox({ tokenLatencyMs: LATENCY_MS });
  const reply = (m: ToParent) => process.send?.(m);
  process.on('message', (m: ToChild) => {
    if ('calls' in m) return reply({ calls: sb.control.tokenCalls(PLATFORM, { grantType: 'refresh_token' }) });
    const grants: MintedGrant[] = [];
    for (let i = m.mint.from; i < m.mint.to; i++)
      grants.push(sb.control.mintGrant(PLATFORM, { tenantExternalId: m.mint.tenant, userExternalId: `${m.mint.prefix}${i}`, scopes: SCOPES }));
    reply({ grants });
  });
  process.on('disconnect', () => void sb.close().then(() => process.exit(0)));
  reply({ env: sb.env });
}

type Answer<K extends 'env' | 'grants' | 'calls'> = Extract<ToParent, Record<K, unknown>>;

/** One question to the sandbox process at a time: the next message is its answer. */
function ask<K extends 'env' | 'grants' | 'calls'>(child: ChildProcess, key: K, m?: ToChild): Promise<Answer<K>> {
  return new Promise((resolve) => {
    child.once('message', (answer: Answer<K>) => resolve(answer));
    if (m) child.send(m);
  });
}

/** Grants for users `prefix0…prefix{N-1}`, chunk by chunk, so neither side holds them all. */
async function* mintAll(child: ChildProcess, prefix: string, tenant: string): AsyncGenerator<MintedGrant[]> {
  for (let from = 0; from < N; from += CHUNK) yield (await ask(child, 'grants', { mint: { prefix, from, to: Math.min(N, from + CHUNK), tenant } })).grants;
}

/** One refresh straight at the sandbox's token endpoint, as the platform adapter would send it. */
function rawRefresh(env: Record<string, string>, tenant: string, refreshToken: string): Promise<Response> {
  if (PLATFORM === 'zoom') {
    const basic = Buffer.from(`${env.ZOOM_CLIENT_ID}:${env.ZOOM_CLIENT_SECRET}`).toString('base64');
    return fetch(`${env.ZOOM_OAUTH_URL}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
  }
  const form = {
    client_id: env.MICROSOFT_CLIENT_ID,
    client_secret: env.MICROSOFT_CLIENT_SECRET,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    scope: SCOPES.join(' '),
  };
  return fetch(`${env.MICROSOFT_AUTHORITY_HOST}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
}

async function main(): Promise<void> {
  const child = fork(__filename, ['--sandbox'], { stdio: 'inherit' });
  const { env } = await ask(child, 'env');
  const bench = await startBenchApp('sweep', { ...env, ...(process.env.REFRESH_CONCURRENCY ? { REFRESH_CONCURRENCY: process.env.REFRESH_CONCURRENCY } : {}) });
  const db = new Client({ connectionString: bench.databaseUrl });
  await db.connect();
  try {
    const concurrency = bench.config.refreshConcurrency;
    const tenantId = PLATFORM === 'zoom' ? `acct-${randomUUID().slice(0, 8)}` : randomUUID();
    const bot = PLATFORM === 'zoom' ? { accountId: tenantId } : { serviceUrl: env.MICROSOFT_BOT_SERVICE_URL };
    const tenant = await bench.call('POST', '/v1/tenants', { platform: PLATFORM, externalId: tenantId, name: 'Sweep Inc', admins: [], bot });
    if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);

    // Sealed by the service's own TokenSealer (so the sweep can open them), written in bulk:
    // 100,000 imports through the API would take minutes and measure the import instead.
    const t0 = Date.now();
    const sealer = bench.app.get(TokenSealer);
    let stored = 0;
    for await (const grants of mintAll(child, 'sweep-user-', tenantId)) {
      const rows = grants.map((g) => {
        const id = randomUUID();
        const tokens = {
          accessToken: new Secret(g.accessToken),
          refreshToken: new Secret(g.refreshToken),
          accessTokenExpiresAt: new Date(Date.now() + 600_000),
          scopes: SCOPES,
          tokenType: 'Bearer',
        };
        return { id, write: sealer.seal(id, tokens, new Date()) };
      });
      await db.query(
        `INSERT INTO connections (id, tenant_id, platform, tenant_external_id, user_external_id, status, scopes, access_token, refresh_token,
           vault_key_id, access_token_expires_at, next_refresh_at)
         SELECT id, $1, $2, $3, 'sweep-user-' || (ord + $4 - 1), 'active', $5, a, r, $6, now() + interval '10 minutes', now() - interval '1 second'
         FROM unnest($7::uuid[], $8::bytea[], $9::bytea[]) WITH ORDINALITY AS t(id, a, r, ord)`,
        [
          tenant.body.id,
          PLATFORM,
          tenantId,
          stored,
          SCOPES,
          rows[0].write.vaultKeyId,
          rows.map((r) => r.id),
          rows.map((r) => r.write.accessToken),
          rows.map((r) => r.write.refreshToken),
        ],
      );
      stored += rows.length;
    }
    await db.query('ANALYZE connections');
    console.log(`${stored.toLocaleString('en')} due connections stored in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The sweep, as the timer would run it; it keeps going while rows are due (a 5-minute budget per call).
    const sweep = bench.app.get(RefreshSweep);
    const metrics = bench.app.get(ConnectionsMetrics);
    const rssBefore = rssMb();
    let peak = rssBefore;
    const inFlight: number[] = [];
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb());
      void metrics.inFlight.get().then((g) => inFlight.push(g.values[0]?.value ?? 0));
    }, 100);
    const cpu0 = cpuSeconds(child.pid ?? 0);
    const elu0 = performance.eventLoopUtilization();
    const s0 = Date.now();
    for (let started = 0; started < N;) {
      const n = await sweep.sweep();
      if (n === 0) break;
      started += n;
    }
    const sweepS = (Date.now() - s0) / 1000;
    const cpu1 = cpuSeconds(child.pid ?? 0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    clearInterval(sampler);
    const histogram = (await metrics.refreshSeconds.get()).values;
    const total = (suffix: string) => histogram.filter((v) => v.metricName?.endsWith(suffix)).reduce((a, v) => a + v.value, 0);
    const count = async (where: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM connections WHERE ${where}`)).rows[0].n);
    const refreshed = await count(`status = 'active' AND last_refresh_at IS NOT NULL AND next_refresh_at > now()`);
    const failed = await count(`last_error IS NOT NULL OR status <> 'active'`);
    const upstreamCalls = (await ask(child, 'calls', { calls: true })).calls;

    // Baseline: the same number of refresh calls, straight with fetch, `concurrency` in flight.
    const tokens: string[] = [];
    for await (const grants of mintAll(child, 'raw-user-', tenantId)) for (const g of grants) tokens.push(g.refreshToken);
    let next = 0;
    let rawFailed = 0;
    const b0 = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < tokens.length) {
          const res = await rawRefresh(env, tenantId, tokens[next++]);
          await res.text();
          if (res.status !== 200) rawFailed++;
        }
      }),
    );
    const rawS = (Date.now() - b0) / 1000;

    const rate = refreshed / sweepS;
    console.log(
      `sweep: ${N.toLocaleString('en')} ${PLATFORM} connections due at once, sandbox token latency ${LATENCY_MS} ms (in its own process), REFRESH_CONCURRENCY=${concurrency}, node ${process.version}`,
    );
    console.table([
      { measure: `baseline: ${N} refresh calls straight with fetch, ${concurrency} in flight`, value: `${Math.round(N / rawS)}/s (${rawS.toFixed(1)} s, ${rawFailed} failed)` },
      { measure: 'theoretical ceiling: concurrency / latency', value: `${Math.round((concurrency * 1000) / LATENCY_MS)}/s` },
      { measure: 'RefreshSweep: connections refreshed and rescheduled', value: `${Math.round(rate)}/s (${refreshed} in ${sweepS.toFixed(1)} s; ${failed} failed)` },
      { measure: 'sweep / baseline', value: `${((rate * rawS) / N).toFixed(2)}` },
      { measure: 'upstream refresh calls made by the sweep (must equal refreshed)', value: String(upstreamCalls) },
      {
        measure: 'refreshes in progress (upstream call + commit): mean count / mean duration',
        value: `${(inFlight.reduce((a, b) => a + b, 0) / inFlight.length).toFixed(1)} / ${((total('_sum') / total('_count')) * 1000).toFixed(1)} ms`,
      },
      { measure: 'service event-loop utilisation during the sweep (1.00 = its thread is saturated)', value: elu.toFixed(2) },
      {
        measure: 'CPU per refresh: service / PostgreSQL / sandbox',
        value: (['self', 'postgres', 'other'] as const).map((k) => `${Math.round(((cpu1[k] - cpu0[k]) / refreshed) * 1e6)} µs`).join(' / '),
      },
      { measure: 'RSS before the sweep → peak during it (sampled every 100 ms)', value: `${rssBefore} MB → ${peak} MB` },
      { measure: 'target ≥ 1,000 refreshes/s', value: rate >= 1000 && failed === 0 && refreshed === N ? 'met' : 'MISSED' },
      { measure: 'target peak RSS < 300 MB', value: peak < 300 ? 'met' : 'MISSED' },
    ]);
  } finally {
    await db.end();
    await bench.close();
    child.disconnect();
  }
}

if (process.argv.includes('--sandbox')) {
  void sandboxChild();
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
