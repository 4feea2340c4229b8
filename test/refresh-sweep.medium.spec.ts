import { MediumWorld, Replica, SeededConnection, startMediumWorld } from './support/medium';

const CONCURRENCY = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The sweep's drain (refresh-sweep.ts) on real PostgreSQL, with its upstream calls counted
 * where they arrive: a pass-through proxy in front of the sandbox's Slack, one per replica.
 */
describe('refresh sweep drain', () => {
  let w: MediumWorld;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    w = await startMediumWorld();
    a = await w.replica({ REFRESH_CONCURRENCY: String(CONCURRENCY) });
    b = await w.replica({ REFRESH_CONCURRENCY: String(CONCURRENCY) });
  });
  afterAll(() => w.close());
  afterEach(() => {
    w.sb.control.setLatency('slack', 0);
    w.sb.control.clearFailures('slack');
  });

  const refreshes = (c: SeededConnection) => w.sb.control.tokenCalls('slack', { userExternalId: c.userExternalId, grantType: 'refresh_token' });

  async function seedDue(n: number): Promise<SeededConnection[]> {
    const seeded: SeededConnection[] = [];
    for (let i = 0; i < n; i++) seeded.push(await w.seed(a, 3600));
    await w.makeDue(seeded.map((s) => s.id));
    return seeded;
  }

  async function count(where: string, seeded: readonly SeededConnection[]): Promise<number> {
    const { rows } = await w.sql.query(`SELECT count(*)::int AS n FROM connections WHERE id = ANY($1) AND (${where})`, [seeded.map((s) => s.id)]);
    return rows[0].n;
  }

  const REFRESHED = `status = 'active' AND last_refresh_at IS NOT NULL AND next_refresh_at > now() AND failure_count = 0 AND lease_owner IS NULL AND refresh_started_at IS NULL`;

  it('refreshes every due row once, never more than REFRESH_CONCURRENCY upstream at a time, and leaves the rest alone', async () => {
    const due = await seedDue(24);
    const notDue = await w.seed(a, 3600);
    w.sb.control.setLatency('slack', 60);
    a.slack.reset();

    expect(await a.sweep.sweep()).toBe(24);

    expect(a.slack.total).toBe(24);
    // The slots are kept full, and never overfull.
    expect(a.slack.most).toBe(CONCURRENCY);
    for (const c of due) expect(refreshes(c)).toBe(1);
    expect(refreshes(notDue)).toBe(0);
    expect(w.sb.control.reuseEvents('slack')).toEqual([]);
    expect(await count(REFRESHED, due)).toBe(24);
    expect(await count('last_refresh_at IS NULL', [notDue])).toBe(1);
  });

  it('two replicas sweeping at once share the due rows: each refreshed once, each replica within its bound', async () => {
    const due = await seedDue(40);
    w.sb.control.setLatency('slack', 40);
    a.slack.reset();
    b.slack.reset();

    const [x, y] = await Promise.all([a.sweep.sweep(), b.sweep.sweep()]);

    expect(x + y).toBe(40);
    expect(a.slack.total).toBe(x);
    expect(b.slack.total).toBe(y);
    expect(a.slack.most).toBeLessThanOrEqual(CONCURRENCY);
    expect(b.slack.most).toBeLessThanOrEqual(CONCURRENCY);
    for (const c of due) expect(refreshes(c)).toBe(1);
    expect(w.sb.control.reuseEvents('slack')).toEqual([]);
    expect(await count(REFRESHED, due)).toBe(40);
  });

  it('a transient failure wakes the sweep when its retry falls due, with no tick in between', async () => {
    const [c] = await seedDue(1);
    w.sb.control.failRefreshes('slack', { userExternalId: c.userExternalId }, { status: 503, body: 'upstream unavailable' }, 1);

    expect(await b.sweep.sweep()).toBe(1);
    const backoff = await w.row(b, c.id);
    expect(backoff.failureCount).toBe(1);
    expect(backoff.lastError?.kind).toBe('transient');
    // The first backoff is 4–5 s; REFRESH_SWEEP_INTERVAL is an hour.
    for (let i = 0; i < 80 && (await count(REFRESHED, [c])) === 0; i++) await sleep(100);

    expect(refreshes(c)).toBe(2);
    expect(await count(REFRESHED, [c])).toBe(1);
  }, 20_000);

  // Last: the replica stops.
  it('a stopping sweep gives back the rows it claimed ahead and never started, so another replica takes them at once', async () => {
    const due = await seedDue(20);
    w.sb.control.setLatency('slack', 400);
    a.slack.reset();
    b.slack.reset();
    const draining = a.sweep.sweep();
    // CONCURRENCY upstream and as many claimed ahead.
    for (let i = 0; i < 100 && (await count('lease_owner IS NOT NULL', due)) < 2 * CONCURRENCY; i++) await sleep(10);
    expect(await count('lease_owner IS NOT NULL', due)).toBe(2 * CONCURRENCY);

    await a.sweep.onApplicationShutdown();
    const started = await draining;

    expect(started).toBeGreaterThanOrEqual(CONCURRENCY);
    expect(started).toBeLessThan(20);
    expect(a.slack.total).toBe(started);
    // What was started finished and committed; nothing else keeps a lease or looks in flight.
    expect(await count(REFRESHED, due)).toBe(started);
    expect(await count('lease_owner IS NOT NULL OR refresh_started_at IS NOT NULL', due)).toBe(0);
    expect(await count(`next_refresh_at <= now() AND last_refresh_at IS NULL`, due)).toBe(20 - started);

    // Well within LEASE_MS: the leases were given back, not left to lapse.
    w.sb.control.setLatency('slack', 0);
    expect(await b.sweep.sweep()).toBe(20 - started);
    expect(b.slack.total).toBe(20 - started);
    for (const c of due) expect(refreshes(c)).toBe(1);
    expect(await count(REFRESHED, due)).toBe(20);
  });
});
