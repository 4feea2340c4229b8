import { microsoftError } from '../sandbox';
import { dms, incidentWhen, resyncLink, sentPrompts, tenantWithAdmins, waitFor } from './support/heal';
import { Receiver } from './support/receiver';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

type Delivered = ReturnType<typeof Receiver.verify>;

/**
 * SPEC §11 "done when": each event type produced by a real flow through the sandbox and
 * pushed to a relay's receiver, which verifies every delivery with `standardwebhooks`.
 */
describe('webhooks: every event type from a real flow, verified by a consumer', () => {
  let w: World;
  let r: Receiver;
  let secret: string;
  beforeAll(async () => {
    w = await startWorld({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', HEAL_PROBE_INTERVAL: '1s' });
    r = await Receiver.start();
    const endpoint = await w.t.call('POST', '/v1/webhook-endpoints', { url: r.url, events: ['*'] });
    expect(endpoint.status).toBe(201);
    secret = endpoint.body.secret;
  });
  afterAll(async () => {
    await r.close();
    await w.close();
  });

  /** Every delivery so far, each verified (a bad signature throws), once per event id. */
  const delivered = (): Delivered[] => {
    const seen = new Map<string, Delivered>();
    for (const got of r.accepted()) seen.set(got.id, Receiver.verify(secret, got));
    return [...seen.values()];
  };
  const typesOf = (connectionId: string) =>
    delivered()
      .filter((e) => e.data.connectionId === connectionId)
      .sort((a, b) => Number(a.data.sequence) - Number(b.data.sequence))
      .map((e) => e.type);
  const eventually = (what: string, connectionId: string, types: string[]) =>
    waitFor(what, () => {
      const got = typesOf(connectionId);
      return types.every((t) => got.includes(t)) ? got : undefined;
    });

  it('connect → revoked grant → re-sync heals → revoke: created, broken (with its re-sync url), incident opened/resolved, healed, revoked', async () => {
    const u = await connectUser(w, 'microsoft');
    await eventually('connection.created', u.connectionId, ['connection.created']);
    w.sb.control.failRefreshes('microsoft', { userExternalId: u.userExternalId }, microsoftError(50173, { error: 'invalid_grant' }), 1);
    const broken = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(broken.body).toMatchObject({ condition: 'grant_revoked', audience: 'user' });
    await eventually('connection.broken', u.connectionId, ['connection.broken', 'incident.opened']);
    const brokenEvent = delivered().find((e) => e.type === 'connection.broken' && e.data.connectionId === u.connectionId);
    expect(brokenEvent).toMatchObject({ tenantId: u.tenantId, data: { condition: 'grant_revoked', audience: 'user', incidentId: broken.body.incidentId, status: 'needs_reauth' } });

    const dm = await waitFor('the re-sync DM', () => dms(w, 'microsoft', u.userExternalId)[0]);
    w.sb.control.signIn('microsoft', u.userExternalId);
    expect((await followConnectLink(resyncLink(dm) as string)).status).toBe(200);
    await eventually('healed and resolved', u.connectionId, ['connection.healed', 'incident.resolved']);

    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200);
    const all = await eventually('connection.revoked', u.connectionId, ['connection.revoked']);
    expect(all).toEqual(['connection.created', 'incident.opened', 'connection.broken', 'connection.healed', 'incident.resolved', 'connection.revoked']);
    expect(all.filter((t) => t === 'connection.broken')).toHaveLength(1);
  });

  it('a Conditional Access block and its lift: broken (admin audience, blocked), incident opened, then healed and resolved after the probe', async () => {
    const tenant = await tenantWithAdmins(w, 'microsoft', 1);
    const u = await connectUser(w, 'microsoft', { tenantExternalId: tenant.externalId, tenantId: tenant.id });
    w.sb.control.failRefreshes('microsoft', { userExternalId: u.userExternalId }, microsoftError(53003), 2);
    const res = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(res.body).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin' });
    await incidentWhen(w, res.body.incidentId, 'resolved after the lift', (i) => i.status === 'resolved' && sentPrompts(i.prompts, 'confirmation').length === 1, 30_000);
    const got = await eventually('healed', u.connectionId, ['connection.broken', 'connection.healed']);
    expect(got.filter((t) => t === 'connection.broken')).toHaveLength(1);
    const brokenEvent = delivered().find((e) => e.type === 'connection.broken' && e.data.connectionId === u.connectionId);
    expect(brokenEvent?.data).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin', status: 'blocked', incidentId: res.body.incidentId });
    expect(brokenEvent?.data.url).toBeUndefined(); // an admin's action is not a link for the user
    // The tenant-wide incident names no connection: its events carry the incident id.
    const incidentEvents = await waitFor('incident.resolved', () => {
      const types = delivered()
        .filter((e) => e.data.incidentId === res.body.incidentId && e.type.startsWith('incident.'))
        .map((e) => e.type);
      return types.includes('incident.resolved') ? types : undefined;
    });
    expect(incidentEvents.sort()).toEqual(['incident.opened', 'incident.resolved']);
  }, 60_000);
});
