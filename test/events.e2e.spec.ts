import { microsoftError } from '../sandbox';
import { sql, waitFor } from './support/heal';
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
    for (const bad of ['since=yesterday', 'type=connection.exploded', 'cursor=bm9wZQ', 'limit=0', 'tenantId=nope']) {
      const res = await w.t.call('GET', `/v1/events?${bad}`, undefined, w.relayKey);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
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
