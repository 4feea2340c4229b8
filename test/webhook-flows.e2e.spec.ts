import { oauthError, slackError, microsoftError } from '../sandbox';
import { dms, expireAccessToken, incidentWhen, logCaughtUp, resyncLink, sentPrompts, sql, tenantWithAdmins, waitFor } from './support/heal';
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
    expect(brokenEvent).toMatchObject({
      tenantId: u.tenantId,
      data: { condition: 'grant_revoked', audience: 'user', incidentId: broken.body.incidentId, status: 'needs_reauth', tenantExternalId: u.tenantExternalId },
    });
    // Its re-sync url is a link of its own (the DM carries another): the relay's UI can show it.
    const url = String(brokenEvent?.data.url);
    expect(url).toMatch(new RegExp(`^${w.t.url}/connect/[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(String(brokenEvent?.data.urlExpiresAt))).toBeGreaterThan(Date.now());

    const dm = await waitFor('the re-sync DM', () => dms(w, 'microsoft', u.userExternalId)[0]);
    expect(resyncLink(dm)).not.toBe(url);
    w.sb.control.signIn('microsoft', u.userExternalId);
    // The event's link heals it (as a relay's UI would have it followed); the DM's is void after.
    expect((await followConnectLink(url)).status).toBe(200);
    await eventually('healed and resolved', u.connectionId, ['connection.healed', 'incident.resolved']);

    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200);
    const all = await eventually('connection.revoked', u.connectionId, ['connection.revoked']);
    expect(all).toEqual(['connection.created', 'incident.opened', 'connection.broken', 'connection.healed', 'incident.resolved', 'connection.revoked']);
    expect(all.filter((t) => t === 'connection.broken')).toHaveLength(1);
  });

  it('an outage past expiry: connection.degraded once however often the retries fail, then connection.recovered once; never broken', async () => {
    const u = await connectUser(w, 'zoom');
    await eventually('connection.created', u.connectionId, ['connection.created']);
    // Zoom's token endpoint resets the connection twice: the call's refresh and the sweep's retry 5 s later.
    w.sb.control.failRefreshes('zoom', { userExternalId: u.userExternalId }, { reset: true }, 2);
    await expireAccessToken(w, u.connectionId);
    const call = await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey);
    expect(call.status).toBe(503);
    await eventually('connection.degraded', u.connectionId, ['connection.degraded']);
    const got = await waitFor(
      'recovered at the second retry (10 s on)',
      () => {
        const types = typesOf(u.connectionId);
        return types.includes('connection.recovered') ? types : undefined;
      },
      30_000,
    );
    expect(got).toEqual(['connection.created', 'connection.degraded', 'connection.recovered']);
    expect(w.sb.control.tokenCalls('zoom', { userExternalId: u.userExternalId, grantType: 'refresh_token' })).toBe(3);
    const [degraded, recovered] = ['connection.degraded', 'connection.recovered'].map((t) => delivered().find((e) => e.type === t && e.data.connectionId === u.connectionId));
    expect(degraded?.data).toMatchObject({
      platform: 'zoom',
      status: 'active',
      userExternalId: u.userExternalId,
      degradedAt: expect.any(String),
      accessTokenExpiresAt: expect.any(String),
    });
    expect(recovered?.data).toMatchObject({ status: 'active', degradedAt: degraded?.data.degradedAt });
    expect((await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey)).status).toBe(200);
  }, 60_000);

  it('a DM that cannot be delivered: prompt.failed names the incident, who was not told and the platform’s code', async () => {
    const u = await connectUser(w, 'slack');
    w.sb.control.failMessages('slack', slackError('channel_not_found'), 1);
    w.sb.control.failRefreshes('slack', { userExternalId: u.userExternalId }, slackError('token_revoked'), 1);
    const broken = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(broken.body).toMatchObject({ condition: 'grant_revoked', audience: 'user' });
    await eventually('prompt.failed', u.connectionId, ['connection.broken', 'prompt.failed']);
    const failed = delivered().filter((e) => e.type === 'prompt.failed' && e.data.connectionId === u.connectionId);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      tenantId: u.tenantId,
      data: {
        incidentId: broken.body.incidentId,
        platform: 'slack',
        kind: 'initial',
        audience: 'user',
        recipientExternalId: u.userExternalId,
        reason: 'refused',
        code: 'channel_not_found',
      },
    });
    expect(dms(w, 'slack', u.userExternalId)).toEqual([]);
  });

  it('our OAuth client refused (invalid_client): client.misconfigured once, to unscoped endpoints only; client.recovered when a refresh works', async () => {
    const scoped = await Receiver.start();
    try {
      const a = await connectUser(w, 'webex');
      const b = await connectUser(w, 'webex');
      const mine = await w.t.call('POST', '/v1/webhook-endpoints', { url: scoped.url, events: ['*'], tenantIds: [a.tenantId] });
      expect(mine.status).toBe(201);
      const refused = oauthError('invalid_client', 'The client authentication failed.');
      w.sb.control.failRefreshes('webex', { userExternalId: a.userExternalId }, refused, 1);
      w.sb.control.failRefreshes('webex', { userExternalId: b.userExternalId }, refused, 1);
      for (const c of [a, b])
        expect((await w.t.call('POST', `/v1/connections/${c.connectionId}/invalidate`, undefined, w.relayKey)).body.type).toBe('/problems/client-misconfigured');
      const clientEvents = () => delivered().filter((e) => e.type.startsWith('client.') && e.data.platform === 'webex');
      await waitFor('client.misconfigured', () => clientEvents().length === 1);
      expect(clientEvents()[0]).toMatchObject({ type: 'client.misconfigured', tenantId: null, data: { platform: 'webex', code: 'invalid_client', since: expect.any(String) } });

      const c = await connectUser(w, 'webex'); // the operator fixed the secret: this one's refresh works
      expect((await w.t.call('POST', `/v1/connections/${c.connectionId}/invalidate`, undefined, w.relayKey)).status).toBe(200);
      await waitFor('client.recovered', () => clientEvents().length === 2);
      expect(clientEvents()[1]).toMatchObject({ type: 'client.recovered', tenantId: null, data: { platform: 'webex', misconfiguredSince: clientEvents()[0].data.since } });
      // Tenant-less: never queued for an endpoint scoped to tenants.
      const queued = await sql(w, `SELECT e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = $1`, [mine.body.id]);
      expect(queued).toEqual([]);
      expect(await sql(w, `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.type LIKE 'client.%'`)).toEqual([{ n: 2 }]);
      // Only unscoped keys read them in the log too.
      await logCaughtUp(w);
      const scopedKey = (await w.t.call('POST', '/v1/api-clients', { name: 'tenant a relay', role: 'relay', tenantIds: [a.tenantId] })).body.apiKey;
      expect((await w.t.call('GET', '/v1/events?type=client.misconfigured', undefined, scopedKey)).body.items).toEqual([]);
      expect((await w.t.call('GET', '/v1/events?type=client.misconfigured', undefined, w.relayKey)).body.items).toHaveLength(1);
    } finally {
      await scoped.close();
    }
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
