/**
 * `npm run bench:heal-storm`: 10,000 users of one Entra tenant hit a Conditional Access
 * block (AADSTS53003) at once. Prints the time from the first failure to every incident
 * recorded and to the admin DMs sent (target under 30 s), and the number of DMs (must be
 * 1 per admin). Baseline, same run: the same 10,000 refreshes when they succeed.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { microsoftError, startSandbox } from '../sandbox';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { scopeCatalog } from '../src/platforms/scope-catalog';
import { startBenchApp } from './harness';

const USERS = Number(process.env.STORM_USERS ?? 10_000);
const ADMINS = 2;

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 120_000): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now();
}

async function main(): Promise<void> {
  const sb = await startSandbox();
  const bench = await startBenchApp('storm', sb.env);
  const { app, config, call } = bench;
  const db = new Client({ connectionString: bench.databaseUrl });
  await db.connect();
  try {
    const tid = randomUUID();
    const admins = Array.from({ length: ADMINS }, () => ({ userExternalId: randomUUID() }));
    await call('POST', '/v1/tenants', { platform: 'microsoft', externalId: tid, name: 'Storm Inc', admins, bot: { serviceUrl: sb.env.MICROSOFT_BOT_SERVICE_URL } });
    const scopes = [...scopeCatalog('microsoft').requiredScopes];
    process.stdout.write(`importing ${USERS} connections… `);
    const t0 = Date.now();
    const users = Array.from({ length: USERS }, () => randomUUID());
    for (let i = 0; i < users.length; i += 32) {
      await Promise.all(
        users.slice(i, i + 32).map(async (oid) => {
          const g = sb.control.mintGrant('microsoft', { tenantExternalId: tid, userExternalId: oid, scopes });
          const res = await call('POST', '/v1/connections', {
            platform: 'microsoft',
            tenantExternalId: tid,
            userExternalId: oid,
            accessToken: g.accessToken,
            refreshToken: g.refreshToken,
            expiresAt: new Date(Date.now() + 3600_000).toISOString(),
            scopes,
          });
          if (res.status !== 201) throw new Error(`import failed: ${res.status}`);
        }),
      );
    }
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const sweep = app.get(RefreshSweep);
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0].n);

    // Baseline: the same refreshes, succeeding.
    await db.query(`UPDATE connections SET next_refresh_at = now()`);
    const b0 = Date.now();
    await sweep.sweep();
    const baselineS = (Date.now() - b0) / 1000;
    const refreshed = await count(`SELECT count(*) AS n FROM connections WHERE last_refresh_at IS NOT NULL AND status = 'active'`);

    // The storm: every refresh is refused by Conditional Access.
    sb.control.failRefreshes('microsoft', { tenantExternalId: tid }, microsoftError(53003));
    await db.query(`UPDATE connections SET next_refresh_at = now()`);
    const s0 = Date.now();
    void sweep.sweep();
    const firstFailure = await waitFor('the first failure', async () => (await count(`SELECT count(*) AS n FROM connections WHERE status = 'blocked'`)) > 0);
    const [allRecorded, adminDms] = await Promise.all([
      waitFor('every incident recorded', async () => (await count(`SELECT count(*) AS n FROM connections WHERE incident_id IS NOT NULL`)) === USERS),
      waitFor('the admin DMs', () => admins.every((a) => sb.control.messages('microsoft', a.userExternalId).length > 0)),
    ]);
    await new Promise((r) => setTimeout(r, 1000)); // let any duplicate show itself
    const incidents = await count(`SELECT count(*) AS n FROM incidents`);
    const dms = admins.reduce((n, a) => n + sb.control.messages('microsoft', a.userExternalId).length, 0);
    const userDms = users.slice(0, 200).reduce((n, u) => n + sb.control.messages('microsoft', u).length, 0);

    console.log(`heal storm: ${USERS} users of one tenant, ${ADMINS} admins, Microsoft (msal-node), REFRESH_CONCURRENCY=${config.refreshConcurrency}, node ${process.version}`);
    console.table([
      { measure: 'baseline: sweep of the same refreshes, succeeding', value: `${baselineS.toFixed(1)} s (${refreshed} refreshed, ${Math.round(refreshed / baselineS)}/s)` },
      { measure: 'storm: sweep start → first failure', value: `${((firstFailure - s0) / 1000).toFixed(2)} s` },
      { measure: 'first failure → every connection in its incident', value: `${((allRecorded - firstFailure) / 1000).toFixed(1)} s` },
      { measure: 'first failure → every admin DM sent', value: `${((adminDms - firstFailure) / 1000).toFixed(1)} s` },
      { measure: 'incidents opened (must be 1)', value: String(incidents) },
      { measure: `admin DMs sent (must be ${ADMINS}, 1 per admin)`, value: String(dms) },
      { measure: 'user DMs (sample of 200 users; must be 0)', value: String(userDms) },
      {
        measure: 'target: every incident recorded and DM sent < 30 s',
        value: Math.max(allRecorded, adminDms) - firstFailure < 30_000 && incidents === 1 && dms === ADMINS ? 'met' : 'MISSED',
      },
    ]);
  } finally {
    await db.end();
    await bench.close();
    await sb.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
