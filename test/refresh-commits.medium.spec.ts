import type { ConnectionRow } from '../src/connections/connection.types';
import type { RefreshCommits } from '../src/connections/refresh/refresh-commits';
import { LEASE_MS } from '../src/connections/refresh/refresher';
import { Secret } from '../src/vault/secret';
import { MediumWorld, Replica, SeededConnection, startMediumWorld } from './support/medium';

type RefreshCommit = Parameters<RefreshCommits['commit']>[0];

/** The group commit's statement: one UPDATE of connections per group. */
const COMMIT_STATEMENT = /^\s*UPDATE\s+connections\b/i;

/** RefreshCommits (refresh-commits.ts) on real PostgreSQL: few statements, every row fenced on its own. */
describe('group commits of refresh results', () => {
  let w: MediumWorld;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    w = await startMediumWorld();
    [a, b] = [await w.replica(), await w.replica()];
  });
  afterAll(() => w.close());

  async function seedMany(n: number): Promise<SeededConnection[]> {
    const seeded: SeededConnection[] = [];
    for (let i = 0; i < n; i++) seeded.push(await w.seed(a, 3600));
    return seeded;
  }

  /** Takes the refresh lease of each row as `owner`, as a refresher does before its upstream call. */
  async function claimAll(via: Replica, owner: string, ids: readonly string[]): Promise<ConnectionRow[]> {
    const claimed: ConnectionRow[] = [];
    for (const id of ids) {
      const row = await via.repo.claim(id, owner, LEASE_MS);
      if (!row) throw new Error(`could not claim ${id}`);
      claimed.push(row);
    }
    return claimed;
  }

  /** The refresh result a refresher would commit over the version it read. */
  const resultFor = (via: Replica, row: ConnectionRow): RefreshCommit => ({
    id: row.id,
    version: row.version,
    write: via.sealer.seal(
      row.id,
      {
        accessToken: new Secret(`new-at-${row.id}`),
        refreshToken: new Secret(`new-rt-${row.id}`),
        accessTokenExpiresAt: new Date(Date.now() + 3600_000),
        scopes: row.scopes,
        tokenType: 'Bearer',
      },
      new Date(Date.now() + 3000_000),
    ),
  });

  it('60 concurrent commits go out in 3 statements; rows whose version or lease moved meanwhile are not overwritten', async () => {
    const seeded = await seedMany(60);
    const owner = 'medium-host:1:commits';
    const claimed = await claimAll(
      a,
      owner,
      seeded.map((s) => s.id),
    );
    // While the refreshes were upstream: a newer write moved one row's version on, another
    // replica took one row's lapsed lease, and the user re-connected a third (new tokens, lease cleared).
    const [moved, taken, resynced] = claimed;
    await w.sql.query(`UPDATE connections SET version = version + 1 WHERE id = $1`, [moved.id]);
    await w.sql.query(`UPDATE connections SET lease_owner = 'other-host:2:taker', lease_until = now() + interval '30 seconds' WHERE id = $1`, [taken.id]);
    const reconnected = await w.seed(b, 3600, seeded[2].userExternalId);
    expect(reconnected.id).toBe(resynced.id);

    const commits = a.newCommits(owner);
    a.statements.reset();
    const results = await Promise.all(claimed.map((row) => commits.commit(resultFor(a, row))));

    // Two go out alone while nothing is in flight; the other 58 wait and go together.
    expect(a.statements.count(COMMIT_STATEMENT)).toBe(3);
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    for (const [i, row] of claimed.entries()) {
      if (i < 3) continue;
      const committed = results[i];
      expect(committed?.id).toBe(row.id);
      expect(committed?.version).toBe(row.version + 1);
      expect(committed?.leaseOwner).toBeNull();
      expect(committed?.lastRefreshAt).not.toBeNull();
      expect(committed && a.sealer.openAccess(committed)?.reveal()).toBe(`new-at-${row.id}`);
      expect(committed && a.sealer.openRefresh(committed)?.reveal()).toBe(`new-rt-${row.id}`);
    }

    const movedNow = await w.row(a, moved.id);
    expect(movedNow.version).toBe(moved.version + 1);
    expect(movedNow.leaseOwner).toBe(owner);
    expect(a.sealer.openAccess(movedNow)?.reveal()).toBe(seeded[0].accessToken);
    const takenNow = await w.row(a, taken.id);
    expect(takenNow.version).toBe(taken.version);
    expect(takenNow.leaseOwner).toBe('other-host:2:taker');
    expect(a.sealer.openAccess(takenNow)?.reveal()).toBe(seeded[1].accessToken);
    const resyncedNow = await w.row(a, resynced.id);
    expect(resyncedNow.status).toBe('active');
    expect(resyncedNow.leaseOwner).toBeNull();
    expect(a.sealer.openAccess(resyncedNow)?.reveal()).toBe(reconnected.accessToken);
  });

  it('a lone commit goes out at once in one statement', async () => {
    const [c] = await seedMany(1);
    const owner = 'medium-host:1:lone';
    const [row] = await claimAll(a, owner, [c.id]);
    const commits = a.newCommits(owner);
    a.statements.reset();
    const started = Date.now();
    const committed = await commits.commit(resultFor(a, row));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.statements.count(COMMIT_STATEMENT)).toBe(1);
    expect(committed?.version).toBe(row.version + 1);
    expect(committed && a.sealer.openAccess(committed)?.reveal()).toBe(`new-at-${row.id}`);
  });

  it('two replicas committing at once over interleaved rows each write only the rows whose lease they hold', async () => {
    const seeded = await seedMany(40);
    const ids = seeded.map((s) => s.id).sort();
    const ownerA = 'medium-host:1:replica-a';
    const ownerB = 'medium-host:2:replica-b';
    // Every other row (in id order, the order the statement locks them) is B's.
    const mineA = await claimAll(
      a,
      ownerA,
      ids.filter((_, i) => i % 2 === 0),
    );
    const mineB = await claimAll(
      b,
      ownerB,
      ids.filter((_, i) => i % 2 === 1),
    );
    // A stale A also tries B's rows, over the versions it would have read.
    const staleA = mineB.map((row) => ({ ...row }));
    const commitsA = a.newCommits(ownerA);
    const commitsB = b.newCommits(ownerB);

    const [byA, byB] = await Promise.all([
      Promise.all([...mineA, ...staleA].map((row) => commitsA.commit(resultFor(a, row)))),
      Promise.all(mineB.map((row) => commitsB.commit(resultFor(b, row)))),
    ]);

    expect(byA.slice(0, mineA.length).map((r) => r?.id)).toEqual(mineA.map((r) => r.id));
    expect(byA.slice(mineA.length)).toEqual(staleA.map(() => undefined));
    expect(byB.map((r) => r?.id)).toEqual(mineB.map((r) => r.id));
    const { rows } = await w.sql.query(`SELECT count(*)::int AS n FROM connections WHERE id = ANY($1) AND lease_owner IS NULL AND last_refresh_at IS NOT NULL`, [ids]);
    expect(rows[0].n).toBe(40);
    for (const row of [...mineA, ...mineB]) {
      const now = await w.row(a, row.id);
      expect(now.version).toBe(row.version + 1);
      expect(a.sealer.openAccess(now)?.reveal()).toBe(`new-at-${row.id}`);
    }
  });
});
