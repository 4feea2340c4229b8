import { Client } from 'pg';
import { ConnectionState } from '../src/connections/connection-state';
import { ConnectionsRepository } from '../src/connections/connections.repository';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { TokenSealer } from '../src/connections/token-sealer';
import { OAuthProviders } from '../src/platforms/oauth-registry';
import type { RefreshRequest } from '../src/platforms/platform';
import { Secret } from '../src/vault/secret';
import { fullScopes, makeTenant } from './support/factories';
import { platformIds, startWorld, World } from './support/world';

/** The sweep's slots bound upstream calls (SPEC §9), it claims ahead, and commits refreshes in groups. */
describe('refresh sweep: upstream slots, claims ahead, group commits', () => {
  let w: World;
  let db: Client;
  const tenant = platformIds('zoom').tenant;

  beforeAll(async () => {
    w = await startWorld({ REFRESH_CONCURRENCY: '4' });
    db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
    await makeTenant(w.t, { platform: 'zoom', externalId: tenant, bot: { accountId: tenant } });
  });
  afterAll(async () => {
    await db.end();
    await w.close();
  });

  /** `n` Zoom connections imported through the API, then made due now. */
  async function importDue(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const user = platformIds('zoom').user;
      const grant = w.sb.control.mintGrant('zoom', { tenantExternalId: tenant, userExternalId: user, scopes: fullScopes('zoom') });
      const res = await w.t.call('POST', '/v1/connections', {
        platform: 'zoom',
        tenantExternalId: tenant,
        userExternalId: user,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        scopes: fullScopes('zoom'),
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    await db.query(`UPDATE connections SET next_refresh_at = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);
    return ids;
  }

  const count = async (sql: string, ids: string[]) => (await db.query(`SELECT count(*)::int AS n FROM connections WHERE id = ANY($1) AND ${sql}`, [ids])).rows[0].n;

  it('keeps exactly REFRESH_CONCURRENCY upstream calls in flight and refreshes each due connection once', async () => {
    const ids = await importDue(24);
    const provider = w.t.app.get(OAuthProviders).get('zoom');
    const refresh = provider.refresh.bind(provider);
    let now = 0;
    let most = 0;
    provider.refresh = async (request: RefreshRequest) => {
      most = Math.max(most, ++now);
      try {
        return await refresh(request);
      } finally {
        now--;
      }
    };
    w.sb.control.setLatency('zoom', 40);
    try {
      expect(await w.t.app.get(RefreshSweep).sweep()).toBe(24);
    } finally {
      provider.refresh = refresh;
      w.sb.control.setLatency('zoom', 0);
    }
    expect(most).toBe(4);
    expect(w.sb.control.tokenCalls('zoom', { grantType: 'refresh_token' })).toBe(24);
    expect(w.sb.control.reuseEvents('zoom')).toEqual([]);
    expect(await count(`status = 'active' AND last_refresh_at IS NOT NULL AND next_refresh_at > now() AND lease_owner IS NULL AND refresh_started_at IS NULL`, ids)).toBe(24);
  });

  it('commits several refreshes in one statement, each fenced on its own version', async () => {
    const ids = await importDue(3);
    const repo = w.t.app.get(ConnectionsRepository);
    const sealer = w.t.app.get(TokenSealer);
    const owner = 'test-host:1:group';
    const claimed = await repo.claimDue(owner, 10, 30_000);
    expect(claimed.map((r) => r.id).sort()).toEqual([...ids].sort());
    // Something newer (a re-sync, another replica) moved the first row on: only its write must lose.
    await db.query(`UPDATE connections SET version = version + 1 WHERE id = $1`, [claimed[0].id]);
    const next = new Date(Date.now() + 3000_000);
    const commits = claimed.map((row) => ({
      id: row.id,
      version: row.version,
      write: sealer.seal(
        row.id,
        {
          accessToken: new Secret(`at-${row.id}`),
          refreshToken: new Secret(`rt-${row.id}`),
          accessTokenExpiresAt: new Date(Date.now() + 3600_000),
          scopes: ['a', 'b c'],
          tokenType: 'Bearer',
        },
        next,
      ),
    }));
    const committed = await w.t.app.get(ConnectionState).commitRefreshes(owner, commits);
    expect(committed.map((r) => r.id).sort()).toEqual(
      claimed
        .slice(1)
        .map((r) => r.id)
        .sort(),
    );
    for (const row of committed) {
      expect(row.scopes).toEqual(['a', 'b c']);
      expect(row.leaseOwner).toBeNull();
      expect(sealer.openAccess(row)?.reveal()).toBe(`at-${row.id}`);
      expect(sealer.openRefresh(row)?.reveal()).toBe(`rt-${row.id}`);
    }
    const lost = await repo.findById(claimed[0].id, 'all');
    expect(lost?.leaseOwner).toBe(owner);
    expect(lost?.scopes).toEqual(fullScopes('zoom'));
    await repo.releaseLease(claimed[0].id, owner);
    await db.query(`UPDATE connections SET next_refresh_at = now() + interval '1 hour' WHERE id = $1`, [claimed[0].id]);
  });

  it('a sweep stopped midway gives back the rows it claimed ahead, so a restart does not take them for cut-off refreshes', async () => {
    const ids = await importDue(20);
    w.sb.control.setLatency('zoom', 300);
    const sweep = w.t.app.get(RefreshSweep);
    const draining = sweep.sweep();
    // 4 in flight and 4 claimed ahead.
    for (let i = 0; i < 100 && (await count('lease_owner IS NOT NULL', ids)) < 8; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await count('lease_owner IS NOT NULL', ids)).toBe(8);
    await sweep.onApplicationShutdown();
    const started = await draining;
    w.sb.control.setLatency('zoom', 0);
    expect(started).toBeGreaterThanOrEqual(4);
    expect(started).toBeLessThan(20);
    expect(await count('last_refresh_at IS NOT NULL', ids)).toBe(started);
    expect(await count('refresh_started_at IS NOT NULL OR lease_owner IS NOT NULL', ids)).toBe(0);
    expect(await count(`next_refresh_at <= now() AND status = 'active'`, ids)).toBe(20 - started);
  });
});
