import { microsoftError } from '../sandbox';
import { dms, HealTenant, importGrant, incidentWhen, sentPrompts, sql, tenantWithAdmins, waitFor } from './support/heal';
import { platformIds, startWorld, World } from './support/world';

/**
 * SPEC §4: a Conditional Access block that hits every user of one tenant is one admin
 * incident, and each admin gets exactly one prompt for it; lifting the block heals everyone
 * with one confirmation per admin.
 */
const USERS = 1_000;

describe(`heal storm: ${USERS} users of one Microsoft tenant`, () => {
  let w: World;
  let tenant: HealTenant;
  const ids: string[] = [];
  beforeAll(async () => {
    // The set-up imports a thousand grants with one key: far over RATE_LIMIT, which this test is not about.
    w = await startWorld({ REFRESH_SWEEP_INTERVAL: '1s', HEAL_PROBE_INTERVAL: '1s', RATE_LIMIT: 'off' });
    tenant = await tenantWithAdmins(w, 'microsoft', 2);
    const users = Array.from({ length: USERS }, () => platformIds('microsoft').user);
    for (let i = 0; i < users.length; i += 50) {
      const batch = await Promise.all(users.slice(i, i + 50).map((userExternalId) => importGrant(w, 'microsoft', tenant.externalId, { userExternalId })));
      ids.push(...batch.map((c) => c.id));
    }
  }, 60_000);
  afterAll(() => w.close());

  /** Every connection of the tenant through the API, paged. */
  async function connections(): Promise<{ id: string; status: string; lastRefreshAt?: string }[]> {
    const all = [];
    let cursor: string | undefined;
    do {
      const res = await w.t.call(
        'GET',
        `/v1/connections?platform=microsoft&tenantExternalId=${tenant.externalId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        w.relayKey,
      );
      all.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return all;
  }
  const openIncidents = async () => (await w.t.call('GET', `/v1/incidents?tenantId=${tenant.id}`)).body.items;
  const refreshCalls = () => w.sb.control.tokenCalls('microsoft', { grantType: 'refresh_token' });

  it('AADSTS53003 for everyone → one incident, one DM per admin, none to users; lifting it → one confirmation per admin, all active', async () => {
    expect(ids).toHaveLength(USERS);
    expect(new Set(ids).size).toBe(USERS);
    expect((await connections()).every((c) => c.status === 'active')).toBe(true);

    w.sb.control.failRefreshes('microsoft', { tenantExternalId: tenant.externalId }, microsoftError(53003));
    const stormAt = Date.now();
    await sql(w, `UPDATE connections SET next_refresh_at = now()`); // an hour passes: every token is due at once

    const incidentId = await waitFor(
      'every connection in one incident',
      async () => {
        const items = await openIncidents();
        return items.length === 1 && items[0].connectionIds.length === USERS ? (items[0].id as string) : undefined;
      },
      40_000,
      500,
    ); // each poll reads 1,000 ids: poll gently, the service is busy
    const recorded = Date.now() - stormAt;
    const opened = await incidentWhen(w, incidentId, 'both admin prompts sent', (i) => sentPrompts(i.prompts, 'initial').length === 2);
    expect(opened).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin', status: 'open' });
    expect(new Set(opened.connectionIds)).toEqual(new Set(ids));
    expect(opened.prompts.map((p: { recipient: string }) => p.recipient).sort()).toEqual([...tenant.admins].sort());
    expect(refreshCalls()).toBeGreaterThanOrEqual(USERS);

    expect((await connections()).filter((c) => c.status === 'blocked')).toHaveLength(USERS);
    for (const admin of tenant.admins) expect(dms(w, 'microsoft', admin)).toHaveLength(1);
    expect(w.sb.control.messages('microsoft')).toHaveLength(2); // no user was DMed
    // The count is of the users affected when the prompt was rendered (the storm may still be arriving).
    expect(dms(w, 'microsoft', tenant.admins[0])[0].text).toMatch(/Conditional Access/);
    // Any probe that met the block meanwhile must change nothing: the end state below (one
    // incident, two DMs per admin in all) covers it. The block is lifted now rather than after
    // another probe, since each failed probe doubles the wait for the next (heal-matrix shows a
    // failed probe on its own).

    // The admin fixes the policy.
    const liftedAt = Date.now();
    w.sb.control.clearFailures('microsoft');
    const healed = await incidentWhen(
      w,
      incidentId,
      'the probe to succeed and both confirmations sent',
      (i) => i.status === 'resolved' && sentPrompts(i.prompts, 'confirmation').length === 2,
      40_000,
      250,
    );
    expect(
      healed.prompts
        .filter((p: { kind: string }) => p.kind === 'confirmation')
        .map((p: { recipient: string }) => p.recipient)
        .sort(),
    ).toEqual([...tenant.admins].sort());
    const refreshed = await waitFor(
      'every connection refreshed again',
      async () => {
        const all = await connections();
        return all.every((c) => c.status === 'active' && c.lastRefreshAt && Date.parse(c.lastRefreshAt) >= liftedAt - 1000) ? all : undefined;
      },
      30_000,
      500,
    );
    expect(refreshed).toHaveLength(USERS);
    expect(await w.t.call('GET', `/v1/incidents?tenantId=${tenant.id}&status=open`).then((r) => r.body.items)).toHaveLength(0);
    for (const admin of tenant.admins) {
      const all = dms(w, 'microsoft', admin);
      expect(all).toHaveLength(2);
      expect(all[1].text).toContain('works again');
      expect(all[1].text).toContain(`${USERS} affected connections were refreshed`);
    }
    expect(w.sb.control.messages('microsoft')).toHaveLength(4);
    expect(await w.t.call('GET', `/v1/incidents?tenantId=${tenant.id}`).then((r) => r.body.items)).toHaveLength(1);
    expect(recorded).toBeLessThan(30_000);
  }, 120_000);
});
