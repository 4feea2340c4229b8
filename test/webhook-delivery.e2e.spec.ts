import { makeTenant } from './support/factories';
import { importGrant, logCaughtUp, sql, waitFor } from './support/heal';
import { Receiver } from './support/receiver';
import { startWorld, World } from './support/world';

/**
 * SPEC §11 delivery, as a relay's receiver sees it: Standard Webhooks verified with the
 * `standardwebhooks` library, at least once through the outbox, on the retry schedule.
 */
describe('webhook delivery', () => {
  let w: World;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    w = await startWorld({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms', WEBHOOK_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await w.close();
  });

  /** A receiver subscribed to one fresh tenant's events (so tests never see each other's). */
  async function subscribed(events: string[] = ['*']) {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const tenant = await makeTenant(w.t);
    const endpoint = await w.t.call('POST', '/v1/webhook-endpoints', { url: receiver.url, events, tenantIds: [tenant.id] });
    expect(endpoint.status).toBe(201);
    return { receiver, tenant, endpointId: endpoint.body.id as string, secret: endpoint.body.secret as string };
  }

  const deliveriesOf = async (endpointId: string) => {
    const res = await w.t.call('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`);
    expect(res.status).toBe(200);
    return res.body.items as Record<string, unknown>[];
  };

  it('delivers connection.created signed as Standard Webhooks: the body is the event of GET /v1/events, webhook-id its id', async () => {
    const { receiver, tenant, endpointId, secret } = await subscribed();
    const c = await importGrant(w, 'microsoft', tenant.externalId);
    const got = await waitFor('the delivery', () => receiver.received[0]);
    const event = Receiver.verify(secret, got);
    expect(got.headers['content-type']).toBe('application/json');
    expect(event).toMatchObject({ id: got.id, type: 'connection.created', tenantId: tenant.id, data: { connectionId: c.id, platform: 'microsoft', status: 'active' } });
    expect(Math.abs(Number(got.timestamp) - Date.now() / 1000)).toBeLessThan(30);
    await logCaughtUp(w);
    const logged = await w.t.call('GET', `/v1/events?tenantId=${tenant.id}`, undefined, w.relayKey);
    expect(logged.body.items).toEqual([event]);
    expect(got.body).not.toContain(c.accessToken);
    // A wrong secret does not verify: the signature is really over this body.
    expect(() => Receiver.verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, got)).toThrow();
    expect(() => Receiver.verify(secret, { ...got, body: got.body.replace('active', 'revoked') })).toThrow();
    await waitFor('delivered', async () => (await deliveriesOf(endpointId))[0]?.status === 'delivered');
    expect(await deliveriesOf(endpointId)).toEqual([
      expect.objectContaining({ eventId: event.id, type: 'connection.created', status: 'delivered', attempts: 1, lastStatusCode: 200, lastAttemptAt: expect.any(String) }),
    ]);
  });

  it('a receiver answering 503, then 200, accepts the event exactly once, with the same webhook-id', async () => {
    const { receiver, tenant, endpointId, secret } = await subscribed();
    receiver.answer({ status: 503 });
    await importGrant(w, 'microsoft', tenant.externalId);
    await waitFor('the retry accepted', () => receiver.accepted()[0]);
    await new Promise((r) => setTimeout(r, 800)); // longer than the whole schedule: nothing more comes
    expect(receiver.received.map((r) => r.answered)).toEqual([503, 200]);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect(Receiver.verify(secret, receiver.accepted()[0]).type).toBe('connection.created');
    expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(150);
    expect(await deliveriesOf(endpointId)).toEqual([expect.objectContaining({ status: 'delivered', attempts: 2, lastStatusCode: 200 })]);
    const metrics = await (await fetch(`${w.t.url}/metrics`)).text();
    expect(Number(/autoheal_webhook_deliveries_total\{outcome="retry"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/autoheal_webhook_deliveries_total\{outcome="delivered"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/autoheal_webhook_delivery_lag_seconds_count (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('after the schedule is spent the delivery is failed; a Retry-After (≤ 1 h) is honoured instead of the schedule', async () => {
    const { receiver, tenant, endpointId } = await subscribed();
    receiver.answer({ status: 429, headers: { 'retry-after': '1' } }).always({ status: 500 });
    await importGrant(w, 'microsoft', tenant.externalId);
    await waitFor('failed', async () => (await deliveriesOf(endpointId))[0]?.status === 'failed', 10_000);
    expect(receiver.received.map((r) => r.answered)).toEqual([429, 500, 500, 500]);
    expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(950);
    const [d] = await deliveriesOf(endpointId);
    expect(d).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 500, lastError: 'http_500' });
    expect(d.nextAttemptAt).toBeUndefined();
  });

  it('during a secret overlap both signatures verify; afterwards only the new one', async () => {
    const { receiver, tenant, endpointId, secret: old } = await subscribed();
    const rotated = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    await importGrant(w, 'microsoft', tenant.externalId);
    const first = await waitFor('a delivery in the overlap', () => receiver.received[0]);
    expect(first.signature.split(' ')).toHaveLength(2);
    expect(Receiver.verify(old, first).type).toBe('connection.created');
    expect(Receiver.verify(rotated.body.secret, first).type).toBe('connection.created');

    await sql(w, `UPDATE webhook_endpoints SET previous_secret_until = now() - interval '1 second', updated_at = now() WHERE id = $1`, [endpointId]);
    await importGrant(w, 'microsoft', tenant.externalId);
    const second = await waitFor('a delivery after the overlap', () => receiver.received[1]);
    expect(second.signature.split(' ')).toHaveLength(1);
    expect(Receiver.verify(rotated.body.secret, second).type).toBe('connection.created');
    expect(() => Receiver.verify(old, second)).toThrow();
  });

  it('POST …/test sends a signed ping to that endpoint alone; it is not in the event log', async () => {
    const { receiver, endpointId, secret, tenant } = await subscribed();
    const other = await subscribed();
    const res = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/test`);
    expect(res.status).toBe(202);
    const got = await waitFor('the ping', () => receiver.received[0]);
    expect(Receiver.verify(secret, got)).toMatchObject({ id: res.body.eventId, type: 'ping', data: { endpointId } });
    await new Promise((r) => setTimeout(r, 400));
    expect(other.receiver.received).toHaveLength(0);
    await logCaughtUp(w); // the ping is below every reader's xmin: were it listed, it would show
    const logged = await w.t.call('GET', `/v1/events?type=ping`, undefined, w.relayKey);
    expect(logged.status).toBe(400);
    const all = await w.t.call('GET', `/v1/events?tenantId=${tenant.id}`);
    expect(all.body.items).toEqual([]);
    const newest = await w.t.call('GET', `/v1/events?since=${new Date(Date.now() - 60_000).toISOString()}&limit=500`);
    expect(newest.body.items.map((e: { id: string }) => e.id)).not.toContain(res.body.eventId);

    await w.t.call('PATCH', `/v1/webhook-endpoints/${endpointId}`, { disabled: true });
    const refused = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/test`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.type).toBe('/problems/conflict');
  });

  it('POST …/replay queues the window again: the same event ids arrive again, once each', async () => {
    const { receiver, tenant, endpointId, secret } = await subscribed(['connection.created']);
    const since = new Date(Date.now() - 1000).toISOString();
    await importGrant(w, 'microsoft', tenant.externalId);
    await importGrant(w, 'microsoft', tenant.externalId);
    await waitFor('two deliveries', () => receiver.accepted().length === 2);
    const replayed = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/replay`, { since });
    expect(replayed).toMatchObject({ status: 202, body: { queued: 2 } });
    await waitFor('two more', () => receiver.accepted().length === 4);
    const ids = receiver.accepted().map((r) => Receiver.verify(secret, r).id);
    expect(ids.slice(2).sort()).toEqual(ids.slice(0, 2).sort());

    const empty = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/replay`, { since, until: since });
    expect(empty.status).toBe(400);
    const future = await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/replay`, { since: new Date(Date.now() + 60_000).toISOString() });
    expect(future.body).toEqual({ queued: 0 });
    expect((await w.t.call('POST', `/v1/webhook-endpoints/${endpointId}/replay`, { since: 'yesterday' })).status).toBe(400);
  });

  it('an endpoint failing for 5 days is disabled, and the other endpoints of its tenant are told', async () => {
    const { receiver, tenant, endpointId } = await subscribed(['connection.created']);
    receiver.always({ status: 500 });
    const watcher = await Receiver.start();
    receivers.push(watcher);
    const watching = await w.t.call('POST', '/v1/webhook-endpoints', { url: watcher.url, events: ['endpoint.disabled'], tenantIds: [tenant.id] });
    await sql(w, `UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`, [endpointId]);
    await importGrant(w, 'microsoft', tenant.externalId);
    const told = await waitFor('endpoint.disabled', () => watcher.received[0]);
    expect(Receiver.verify(watching.body.secret, told)).toMatchObject({ type: 'endpoint.disabled', tenantId: tenant.id, data: { endpointId } });
    expect((await w.t.call('GET', `/v1/webhook-endpoints/${endpointId}`)).body.disabled).toBe(true);
    const tries = receiver.received.length;
    await importGrant(w, 'microsoft', tenant.externalId);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(tries); // a disabled endpoint gets nothing
    // Enabled again, its five days start afresh: one failure does not disable it.
    await w.t.call('PATCH', `/v1/webhook-endpoints/${endpointId}`, { disabled: false });
    await importGrant(w, 'microsoft', tenant.externalId);
    await waitFor('a new attempt', () => receiver.received.length > tries);
    expect((await w.t.call('GET', `/v1/webhook-endpoints/${endpointId}`)).body.disabled).toBe(false);
  });
});
