import type { ConnectionRow } from '../src/connections/connection.types';
import { Replica, startMediumWorld, MediumWorld } from './support/medium';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

/**
 * The refresher's claim-or-wait (SPEC §7) with two replicas on one database: the row's lease
 * admits one upstream refresh, the others wait for its commit and read it back.
 */
describe('Refresher.ensure across two replicas', () => {
  let w: MediumWorld;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    w = await startMediumWorld();
    [a, b] = [await w.replica(), await w.replica()];
  });
  afterAll(() => w.close());
  afterEach(() => w.sb.control.setLatency('slack', 0));

  const refreshes = (user: string) => w.sb.control.tokenCalls('slack', { userExternalId: user, grantType: 'refresh_token' });

  /** Polls the database until `test` holds for the row (or fails after ~5 s). */
  async function until(id: string, test: (row: ConnectionRow) => boolean): Promise<ConnectionRow> {
    for (let i = 0; i < 250; i++) {
      const row = await w.row(a, id);
      if (test(row)) return row;
      await sleep(20);
    }
    throw new Error(`connection ${id} never reached the expected state`);
  }

  it('concurrent callers on both replicas cause one upstream refresh and all get the committed row', async () => {
    const c = await w.seed(a, 120);
    const before = await w.row(a, c.id);
    w.sb.control.setLatency('slack', 200);
    const need = { validUntil: minutes(5) };
    a.slack.reset();
    b.slack.reset();
    const rows = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).refresher.ensure(c.id, need)));

    expect(refreshes(c.userExternalId)).toBe(1);
    expect(a.slack.total + b.slack.total).toBe(1);
    expect(w.sb.control.reuseEvents('slack')).toEqual([]);
    const committed = await w.row(a, c.id);
    expect(committed.version).toBe(before.version + 1);
    expect(committed.leaseOwner).toBeNull();
    expect(committed.accessTokenExpiresAt?.getTime()).toBeGreaterThanOrEqual(need.validUntil.getTime());
    const token = a.sealer.openAccess(committed)?.reveal();
    expect(token).toBeDefined();
    expect(token).not.toBe(c.accessToken);
    for (const row of rows) {
      expect(row?.version).toBe(committed.version);
      expect(row && b.sealer.openAccess(row)?.reveal()).toBe(token);
    }
  });

  it("a waiter whose need the other replica's commit meets returns that row without refreshing or asking admit", async () => {
    const c = await w.seed(a, 120);
    const before = await w.row(a, c.id);
    w.sb.control.setLatency('slack', 400);
    const first = a.refresher.ensure(c.id, { validUntil: minutes(5) });
    await until(c.id, (r) => r.leaseOwner === a.refresher.owner);

    let asked = 0;
    const waiter = b.refresher.ensure(c.id, {
      newerThan: before.version,
      admit: () => {
        asked++;
        return true;
      },
    });
    const [mine, theirs] = await Promise.all([first, waiter]);

    expect(refreshes(c.userExternalId)).toBe(1);
    expect(asked).toBe(0);
    expect(mine?.version).toBe(before.version + 1);
    expect(theirs?.version).toBe(mine?.version);
    expect(theirs?.leaseOwner).toBeNull();
    expect(theirs && b.sealer.openAccess(theirs)?.reveal()).toBe(mine && a.sealer.openAccess(mine)?.reveal());
  });

  it('a lease left by a dead owner past lease_until is taken over and the refresh committed', async () => {
    const c = await w.seed(a, 120);
    const before = await w.row(a, c.id);
    await w.sql.query(
      `UPDATE connections SET lease_owner = 'gone-host:1:deadbeef', lease_until = now() - interval '1 second', refresh_started_at = now() - interval '31 seconds' WHERE id = $1`,
      [c.id],
    );
    const row = await b.refresher.ensure(c.id, { validUntil: minutes(5) });

    expect(refreshes(c.userExternalId)).toBe(1);
    expect(row?.version).toBe(before.version + 1);
    expect(row?.leaseOwner).toBeNull();
    expect(row?.refreshStartedAt).toBeNull();
    expect(row?.lastRefreshAt).not.toBeNull();
    expect(row?.accessTokenExpiresAt?.getTime()).toBeGreaterThan(minutes(5).getTime());
  });

  it('a live lease of another owner is waited for, and taken over once it lapses without a commit', async () => {
    const c = await w.seed(a, 120);
    const before = await w.row(a, c.id);
    await w.sql.query(`UPDATE connections SET lease_owner = 'stuck-host:1:cafef00d', lease_until = now() + interval '800 milliseconds', refresh_started_at = now() WHERE id = $1`, [
      c.id,
    ]);
    const started = Date.now();
    const row = await a.refresher.ensure(c.id, { validUntil: minutes(5) });

    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(refreshes(c.userExternalId)).toBe(1);
    expect(row?.version).toBe(before.version + 1);
    expect(row?.leaseOwner).toBeNull();
  });

  it('a row backing off is returned as it is, with no upstream call and no lease taken', async () => {
    const c = await w.seed(a, 120);
    const lastError = { kind: 'transient', code: '503', message: 'the platform answered 503', at: new Date().toISOString() };
    await w.sql.query(`UPDATE connections SET failure_count = 2, next_refresh_at = now() + interval '1 minute', last_error = $2 WHERE id = $1`, [c.id, lastError]);
    const before = await w.row(a, c.id);
    let asked = 0;
    const row = await b.refresher.ensure(c.id, {
      validUntil: minutes(5),
      admit: () => {
        asked++;
        return true;
      },
    });

    expect(refreshes(c.userExternalId)).toBe(0);
    expect(asked).toBe(0);
    expect(row).toEqual(before);
    const after = await w.row(a, c.id);
    expect(after.leaseOwner).toBeNull();
    expect(after.version).toBe(before.version);
    expect(after.failureCount).toBe(2);
  });
});
