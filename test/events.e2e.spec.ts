import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { microsoftError } from '../sandbox';
import { logCaughtUp, sql, waitFor } from './support/heal';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

interface EventView {
  id: string;
  type: string;
  createdAt: string;
  tenantId: string | null;
  data: Record<string, unknown> & { sequence: number };
}

/** SPEC §11: the event log through GET /v1/events, fed by the real connect, heal and revoke flows. */
describe('events: GET /v1/events', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ EVENTS_PRUNE_INTERVAL: '200ms' });
  });
  afterAll(() => w.close());

  async function eventsOf(connectionId: string, key = w.relayKey): Promise<EventView[]> {
    await logCaughtUp(w);
    const all: EventView[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await w.t.call('GET', `/v1/events?limit=500${cursor ? `&cursor=${cursor}` : ''}`, undefined, key);
      expect(res.status).toBe(200);
      all.push(...(res.body.items as EventView[]));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return all.filter((e) => e.data.connectionId === connectionId).sort((a, b) => a.data.sequence - b.data.sequence);
  }

  async function page(query: string, key = w.relayKey): Promise<{ items: EventView[]; nextCursor?: string }> {
    const res = await w.t.call('GET', `/v1/events?${query}`, undefined, key);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** Writes one event as EventLog does (the table's defaults) on `db`, inside whatever transaction it has open. */
  async function insertEvent(db: Client, tenantId: string | null): Promise<string> {
    const id = `evt_t_${randomBytes(9).toString('base64url')}`;
    await db.query(`INSERT INTO events (id, type, tenant_id, data) VALUES ($1, $2, $3, '{}')`, [id, tenantId ? 'connection.degraded' : 'client.misconfigured', tenantId]);
    return id;
  }

  async function opened(): Promise<Client> {
    const db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
    return db;
  }

  it('connect → broken (+ incident opened) → re-sync healed (+ incident resolved) → revoked, once each, in sequence, never a token', async () => {
    const u = await connectUser(w, 'microsoft');
    const first = await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey);
    expect(first.status).toBe(200);
    expect((await eventsOf(u.connectionId)).map((e) => e.type)).toEqual(['connection.created']);

    w.sb.control.failRefreshes('microsoft', { userExternalId: u.userExternalId }, microsoftError(50173, { error: 'invalid_grant' }));
    const broken = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(broken.status).toBe(409);
    const incidentId = broken.body.incidentId as string;
    const dm = await waitFor('the re-sync DM', () => w.sb.control.messages('microsoft', u.userExternalId)[0]);
    const link = dm.links.find((l) => l.includes('/connect/'));
    expect(link).toBeDefined();
    // A second failing call is the same transition: no second event.
    expect((await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey)).status).toBe(409);

    const afterBreak = await eventsOf(u.connectionId);
    expect(afterBreak.map((e) => e.type).sort()).toEqual(['connection.broken', 'connection.created', 'incident.opened']);
    const brokenEvent = afterBreak.find((e) => e.type === 'connection.broken');
    expect(brokenEvent).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      tenantId: u.tenantId,
      data: { connectionId: u.connectionId, platform: 'microsoft', status: 'needs_reauth', condition: 'grant_revoked', audience: 'user', incidentId },
    });
    expect(afterBreak.find((e) => e.type === 'incident.opened')).toMatchObject({ data: { incidentId, condition: 'grant_revoked', audience: 'user', status: 'open' } });

    w.sb.control.signIn('microsoft', u.userExternalId);
    expect((await followConnectLink(link as string)).status).toBe(200);
    const healed = await waitFor('healed and resolved', async () => {
      const ev = await eventsOf(u.connectionId);
      return ev.some((e) => e.type === 'incident.resolved') ? ev : undefined;
    });
    const second = await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey);
    expect(second.status).toBe(200);
    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200);
    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200); // already revoked: no second event

    const all = await eventsOf(u.connectionId);
    expect(healed.find((e) => e.type === 'incident.resolved')).toMatchObject({ data: { incidentId, status: 'resolved', resolvedAt: expect.any(String) } });
    const types = all.map((e) => e.type);
    expect(types.filter((t) => t !== 'incident.opened' && t !== 'incident.resolved')).toEqual([
      'connection.created',
      'connection.broken',
      'connection.healed',
      'connection.revoked',
    ]);
    expect(types.filter((t) => t === 'incident.opened' || t === 'incident.resolved')).toEqual(['incident.opened', 'incident.resolved']);
    expect(types.indexOf('incident.opened')).toBeLessThan(types.indexOf('connection.healed'));
    const sequences = all.map((e) => e.data.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(all.find((e) => e.type === 'connection.healed')?.data).toMatchObject({ status: 'active' });
    expect(all.find((e) => e.type === 'connection.revoked')?.data).toMatchObject({ status: 'revoked' });

    // Never a token: not in the answers, not in the table.
    const stored = JSON.stringify(await sql(w, `SELECT * FROM events`));
    for (const token of [first.body.accessToken, second.body.accessToken] as string[]) {
      expect(token.length).toBeGreaterThan(8);
      expect(JSON.stringify(all)).not.toContain(token);
      expect(stored).not.toContain(token);
    }
  });

  it('pages by cursor, filters by type and since, and a scoped key sees only its tenants', async () => {
    const a = await connectUser(w, 'slack');
    const b = await connectUser(w, 'slack');
    const scoped = await w.t.call('POST', '/v1/api-clients', { name: 'scoped relay', role: 'relay', tenantIds: [a.tenantId] });
    expect(scoped.status).toBe(201);
    const key = scoped.body.apiKey as string;

    await logCaughtUp(w);
    const seen: EventView[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await w.t.call('GET', `/v1/events?type=connection.created&limit=1${cursor ? `&cursor=${cursor}` : ''}`, undefined, w.relayKey);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen.every((e) => e.type === 'connection.created')).toBe(true);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen.map((e) => e.data.connectionId)).toEqual(expect.arrayContaining([a.connectionId, b.connectionId]));

    const mine = await w.t.call('GET', '/v1/events?limit=500', undefined, key);
    expect(mine.status).toBe(200);
    expect(mine.body.items.length).toBeGreaterThan(0);
    expect(mine.body.items.every((e: EventView) => e.tenantId === a.tenantId)).toBe(true);
    const foreign = await w.t.call('GET', `/v1/events?tenantId=${b.tenantId}`, undefined, key);
    expect(foreign.status).toBe(200);
    expect(foreign.body.items).toEqual([]);

    const future = await w.t.call('GET', `/v1/events?since=${new Date(Date.now() + 60_000).toISOString()}`, undefined, w.relayKey);
    expect(future.body.items).toEqual([]);
    // The cursor of the old (created_at, id) paging, and xids PostgreSQL would read otherwise (octal, wrapped, too big).
    const cursors = [
      ['2026-01-01 10:00:00.123456+00', 'evt_x'],
      ['012', 'evt_x'],
      ['-1', 'evt_x'],
      ['18446744073709551616', 'evt_x'],
    ].map((c) => `cursor=${Buffer.from(JSON.stringify(c)).toString('base64url')}`);
    for (const bad of ['since=yesterday', 'type=connection.exploded', 'cursor=bm9wZQ', 'limit=0', 'tenantId=nope', ...cursors]) {
      const res = await w.t.call('GET', `/v1/events?${bad}`, undefined, w.relayKey);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('a revoked connection connected again is created again, under its id', async () => {
    const u = await connectUser(w, 'slack');
    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200);
    const again = await connectUser(w, 'slack', { tenantId: u.tenantId, tenantExternalId: u.tenantExternalId, userExternalId: u.userExternalId });
    expect(again.connectionId).toBe(u.connectionId);
    const types = await waitFor('created again', async () => {
      const t = (await eventsOf(u.connectionId)).map((e) => e.type);
      return t.length >= 3 ? t : undefined;
    });
    expect(types).toEqual(['connection.created', 'connection.revoked', 'connection.created']);
  });

  it('an event whose transaction began first but commits last is still read after the cursor: nothing commits behind it', async () => {
    const u = await connectUser(w, 'zoom');
    const scope = `tenantId=${u.tenantId}`;
    const created = await waitFor('connection.created in the log', async () => {
      const p = await page(scope);
      return p.items.length === 1 ? p : undefined;
    });
    const t1 = await opened();
    const t2 = await opened();
    try {
      await t1.query('BEGIN');
      const early = await insertEvent(t1, u.tenantId); // T1 writes first and stays open
      const late = await insertEvent(t2, u.tenantId); // T2 writes later and commits at once
      const from = `${scope}${created.nextCursor ? `&cursor=${created.nextCursor}` : ''}`;
      const during = await page(from);
      // By (created_at, id) this page was [late], and its cursor passed over `early`, which then committed behind it.
      expect(during).toEqual({ items: [] });
      await t1.query('COMMIT');
      const after = await waitFor('both once T1 has committed', async () => {
        const p = await page(from);
        return p.items.length >= 2 ? p : undefined;
      });
      expect(after.items.map((e) => e.id)).toEqual([early, late]);
      expect(await page(`${scope}&cursor=${after.nextCursor}`)).toEqual({ items: [] });
      expect((await sql<{ id: string }>(w, `SELECT id FROM events WHERE id = ANY($1) ORDER BY created_at`, [[early, late]])).map((r) => r.id)).toEqual([early, late]);
    } finally {
      await t1.end();
      await t2.end();
    }
  });

  it('overlapping writers, paged 3 at a time between their commits: each event exactly once, in transaction order, inside each key’s scope', async () => {
    const a = await connectUser(w, 'slack');
    const b = await connectUser(w, 'slack');
    const scoped = await w.t.call('POST', '/v1/api-clients', { name: 'scoped poller', role: 'relay', tenantIds: [a.tenantId] });
    const readers = [w.relayKey, scoped.body.apiKey as string].map((key) => ({ key, seen: [] as EventView[], cursor: undefined as string | undefined }));
    const drain = async (r: (typeof readers)[number], limit: number) => {
      for (;;) {
        const p = await page(`limit=${limit}${r.cursor ? `&cursor=${r.cursor}` : ''}`, r.key);
        r.seen.push(...p.items);
        if (!p.nextCursor) return;
        r.cursor = p.nextCursor;
      }
    };
    for (const r of readers) await drain(r, 500); // to the end of the log so far
    const start = readers.map((r) => r.seen.length);

    const writers = await Promise.all([0, 1, 2, 3].map(() => opened()));
    const written = new Map<string, { tenantId: string | null; txn: number }>();
    try {
      for (let round = 0; round < 5; round++) {
        for (const [i, db] of writers.entries()) {
          await db.query('BEGIN');
          for (let k = 0; k < 3; k++) {
            const tenantId = [a.tenantId, b.tenantId, null][(round + i + k) % 3];
            written.set(await insertEvent(db, tenantId), { tenantId, txn: round * 4 + i });
          }
        }
        for (const db of [...writers].reverse()) {
          await db.query('COMMIT'); // the last to begin commits first
          for (const r of readers) await drain(r, 3);
        }
      }
    } finally {
      await Promise.all(writers.map((db) => db.end()));
    }
    const mine = (ids: string[]) => ids.filter((id) => written.has(id));
    const ofA = [...written].filter(([, e]) => e.tenantId === a.tenantId).map(([id]) => id);
    await waitFor('every committed event read', async () => {
      for (const r of readers) await drain(r, 3);
      return mine(readers[0].seen.map((e) => e.id)).length >= written.size && mine(readers[1].seen.map((e) => e.id)).length >= ofA.length;
    });

    const [all, scopedSeen] = readers.map((r, i) => r.seen.slice(start[i]));
    for (const seen of [all, scopedSeen]) expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(mine(all.map((e) => e.id)).sort()).toEqual([...written.keys()].sort());
    const txns = mine(all.map((e) => e.id)).map((id) => written.get(id)?.txn ?? -1);
    expect(txns).toEqual([...txns].sort((x, y) => x - y)); // by transaction (xid), not by commit
    expect(scopedSeen.every((e) => e.tenantId === a.tenantId)).toBe(true); // neither b's nor the tenant-less ones
    expect(scopedSeen.map((e) => e.id).sort()).toEqual(ofA.sort());
    expect(all.filter((e) => e.tenantId === null && written.has(e.id))).toHaveLength([...written.values()].filter((e) => e.tenantId === null).length);
  });

  it('events from before the xid column (xid 0) come first, and xids sort and page as numbers, not as text', async () => {
    const u = await connectUser(w, 'webex');
    const old = ['0', '9', '10'].map((xid) => ({ xid, id: `evt_t_${xid}_${randomBytes(6).toString('base64url')}` }));
    for (const e of [...old].reverse()) {
      await sql(w, `INSERT INTO events (id, type, tenant_id, data, xid) VALUES ($1, 'connection.degraded', $2, '{}', $3::xid8)`, [e.id, u.tenantId, e.xid]);
    }
    const scope = `tenantId=${u.tenantId}`;
    const all = await waitFor('the four', async () => {
      const p = await page(scope);
      return p.items.length === 4 ? p.items : undefined;
    });
    expect(all.map((e) => e.id)).toEqual([...old.map((e) => e.id), all[3].id]);
    expect(all[3].type).toBe('connection.created');
    const first = await page(`${scope}&limit=2`);
    expect((await page(`${scope}&limit=2&cursor=${first.nextCursor}`)).items.map((e) => e.id)).toEqual([old[2].id, all[3].id]);
  });

  it('deletes events older than 30 days on its timer and keeps the rest', async () => {
    const u = await connectUser(w, 'webex');
    await sql(
      w,
      `INSERT INTO events (id, type, tenant_id, connection_id, data, created_at) VALUES ('evt_old_one', 'connection.created', $1, $2, '{}', now() - interval '31 days')`,
      [u.tenantId, u.connectionId],
    );
    await waitFor('the old event pruned', async () => (await sql(w, `SELECT id FROM events WHERE id = 'evt_old_one'`)).length === 0);
    expect((await eventsOf(u.connectionId)).map((e) => e.type)).toEqual(['connection.created']);
  });
});
