import { microsoftError } from '../sandbox';
import { importGrant, logCaughtUp, sql, tenantWithAdmins, waitFor } from './support/heal';
import { startWorld, World } from './support/world';

interface EventView {
  type: string;
  tenantId: string;
  data: Record<string, unknown> & { sequence: number };
}

/** SPEC §11 for an admin incident: one incident.opened, one connection.broken per row, healed by the probe's release. */
describe('events: an admin incident through heal', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ HEAL_PROBE_INTERVAL: '1s', RATE_LIMIT: 'off' });
  });
  afterAll(() => w.close());

  const eventsOfTenant = async (tenantId: string): Promise<EventView[]> => {
    await logCaughtUp(w);
    const res = await w.t.call('GET', `/v1/events?tenantId=${tenantId}&limit=500`, undefined, w.relayKey);
    expect(res.status).toBe(200);
    return res.body.items as EventView[];
  };

  it('a Conditional Access block of two users → broken ×2 and opened ×1; lifted → healed ×2 and resolved ×1; no url for admins', async () => {
    const tenant = await tenantWithAdmins(w, 'microsoft', 1);
    const users = [await importGrant(w, 'microsoft', tenant.externalId), await importGrant(w, 'microsoft', tenant.externalId)];
    w.sb.control.failRefreshes('microsoft', { tenantExternalId: tenant.externalId }, microsoftError(53003));
    for (const u of users) expect((await w.t.call('POST', `/v1/connections/${u.id}/invalidate`, undefined, w.relayKey)).status).toBe(409);
    const opened = await waitFor('both broken', async () => {
      const ev = await eventsOfTenant(tenant.id);
      return ev.filter((e) => e.type === 'connection.broken').length === 2 ? ev : undefined;
    });
    const incidentId = opened.find((e) => e.type === 'incident.opened')?.data.incidentId;
    expect(opened.filter((e) => e.type === 'incident.opened')).toHaveLength(1);
    for (const e of opened.filter((x) => x.type === 'connection.broken')) {
      expect(e.data).toMatchObject({ status: 'blocked', audience: 'admin', condition: 'conditional_access_blocked', incidentId });
      expect(e.data.url).toBeUndefined();
    }

    w.sb.control.clearFailures('microsoft');
    const done = await waitFor(
      'the probe heals the tenant',
      async () => {
        const ev = await eventsOfTenant(tenant.id);
        return ev.some((e) => e.type === 'incident.resolved') ? ev : undefined;
      },
      30_000,
      200,
    );
    const healed = done.filter((e) => e.type === 'connection.healed').map((e) => e.data.connectionId);
    expect(healed.sort()).toEqual(users.map((u) => u.id).sort());
    expect(done.filter((e) => e.type === 'incident.resolved')).toEqual([expect.objectContaining({ data: expect.objectContaining({ incidentId, status: 'resolved' }) })]);
    const stored = JSON.stringify(await sql(w, `SELECT * FROM events WHERE tenant_id = $1`, [tenant.id]));
    for (const u of users) expect(stored).not.toContain(u.accessToken);
  });
});
