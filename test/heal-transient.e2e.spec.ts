import { Failure, microsoftError, oauthError, SandboxPlatform, slackError, webexOauthError, zoomOauthError } from '../sandbox';
import { expireAccessToken, HealTenant, importGrant, sleep, sql, tenantWithAdmins } from './support/heal';
import { startWorld, World } from './support/world';

/**
 * SPEC §3: transient failures are retried with backoff and never open an incident nor DM
 * anyone; a misconfigured OAuth client of ours opens none either and shows in readiness.
 * (refresh-failures.e2e covers serving a still-valid token and Slack's bad_client_secret.)
 */

const PLATFORMS: SandboxPlatform[] = ['microsoft', 'slack', 'webex', 'zoom'];
const HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';
const HTML_503 = '<!DOCTYPE html><html><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>';

/** The platform's JSON answers for 429, 500 and 503, and a "try later" code it sends with a 2xx/4xx. */
const JSON_BODIES: Record<SandboxPlatform, { r429: Failure; r500: Failure; r503: Failure; own: [string, Failure] }> = {
  microsoft: {
    r429: { status: 429, body: microsoftError(90055, { error: 'temporarily_unavailable' }).body, headers: { 'retry-after': '7' } },
    r500: microsoftError(50000, { error: 'server_error' }),
    r503: microsoftError(90033, { error: 'temporarily_unavailable' }),
    own: ['AADSTS50033 RetryableError (400)', microsoftError(50033)],
  },
  slack: {
    r429: slackError('ratelimited', 7),
    r500: { status: 500, body: { ok: false, error: 'internal_error' } },
    r503: { status: 503, body: { ok: false, error: 'service_unavailable' } },
    own: ['fatal_error (200 ok:false)', slackError('fatal_error')],
  },
  webex: {
    r429: { status: 429, body: { message: 'Too Many Requests', trackingId: 'ROUTER_TRANSIENT' }, headers: { 'retry-after': '7' } },
    r500: { status: 500, body: { error: 'server_error', error_description: 'Internal Server Error', trackingId: 'ROUTER_500' } },
    r503: { status: 503, body: { message: 'Service Unavailable', errors: [{ description: 'Service Unavailable' }], trackingId: 'ROUTER_503' } },
    own: ['temporarily_unavailable (400)', webexOauthError('temporarily_unavailable', 'The service is temporarily unavailable.')],
  },
  zoom: {
    r429: { status: 429, body: { code: 429, message: 'You have reached the maximum per-second rate limit for this API. Try again later.' }, headers: { 'retry-after': '7' } },
    r500: { status: 500, body: { reason: 'Internal Error', error: 'server_error' } },
    r503: { status: 503, body: { code: 503, message: 'Service Unavailable' } },
    own: ['temporarily_unavailable (400)', zoomOauthError('temporarily_unavailable', 'Service is temporarily unavailable')],
  },
};

function transientCases(platform: SandboxPlatform): { name: string; failure: Failure; retryAfterAtLeast?: number }[] {
  const j = JSON_BODIES[platform];
  return [
    { name: 'a hang, ended by the 10 s upstream timeout', failure: { hang: true } },
    { name: '429 with Retry-After: 7', failure: j.r429, retryAfterAtLeast: 7 },
    { name: '500 with a JSON body', failure: j.r500 },
    { name: '502 with an HTML body from a proxy', failure: { status: 502, body: HTML_502 } },
    { name: '503 with a JSON body', failure: j.r503 },
    { name: '503 with an HTML body', failure: { status: 503, body: HTML_503 } },
    { name: `the platform's own code: ${j.own[0]}`, failure: j.own[1] },
    { name: 'a reset connection', failure: { reset: true } },
  ];
}

/** Our own OAuth client refused, as each platform says it. */
const MISCONFIGURED: Record<SandboxPlatform, [string, Failure]> = {
  microsoft: ['AADSTS7000215 invalid client secret', microsoftError(7000215)],
  slack: ['invalid_client_id', slackError('invalid_client_id')],
  webex: ['invalid_client', webexOauthError('invalid_client', 'The client authentication failed.')],
  zoom: ['invalid_client', oauthError('invalid_client', undefined, { reason: 'Invalid client_id or client_secret' })],
};

describe('failures that are no incident', () => {
  let w: World;
  const tenants = new Map<SandboxPlatform, HealTenant>();
  beforeAll(async () => {
    w = await startWorld();
    for (const platform of PLATFORMS) tenants.set(platform, await tenantWithAdmins(w, platform, 2));
  });
  afterAll(() => w.close());

  const tenantOf = (platform: SandboxPlatform) => tenants.get(platform) as HealTenant;
  const ready = async () => (await w.t.call('GET', '/health/ready', undefined, null)) as { status: number; body: { details: { clients: Record<string, string> } } };

  describe.concurrent.each(PLATFORMS)('%s: transient', (platform) => {
    // Half the cases fail an invalidate; half an access-token call on an expired token.
    it.for(transientCases(platform).map((c, i) => ({ ...c, via: i % 2 === 0 ? 'invalidate' : 'expired access-token' })))(
      '$name (via $via): 503 with Retry-After, still active, no incident',
      { timeout: 30_000 },
      async ({ failure, retryAfterAtLeast, via }, { expect }) => {
        const c = await importGrant(w, platform, tenantOf(platform).externalId);
        w.sb.control.failRefreshes(platform, { userExternalId: c.userExternalId }, failure, 1);
        if (via === 'expired access-token') await expireAccessToken(w, c.id);
        const started = Date.now();
        const res =
          via === 'invalidate'
            ? await w.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, w.relayKey)
            : await w.t.call('POST', `/v1/connections/${c.id}/access-token`, { minValiditySeconds: 60 }, w.relayKey);
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.type).toBe('/problems/upstream-unavailable');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(retryAfterAtLeast ? retryAfterAtLeast - 1 : 1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(w.sb.control.tokenCalls(platform, { userExternalId: c.userExternalId, grantType: 'refresh_token' })).toBe(1);

        const view = (await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body;
        expect(view.status).toBe('active');
        expect(view.incidentId).toBeUndefined();
        expect(view.lastError).toMatchObject({ kind: 'transient' });
        const backoff = Date.parse(view.nextRefreshAt) - Date.parse(view.lastError.at);
        expect(backoff).toBeGreaterThanOrEqual(retryAfterAtLeast ? retryAfterAtLeast * 1000 : 4_000);
        expect(backoff).toBeLessThanOrEqual(60_000);
        // SPEC §11: degraded only once the access token has expired (the relay cannot get one), never broken.
        const events = await sql<{ type: string }>(w, `SELECT type FROM events WHERE connection_id = $1 AND type <> 'connection.created' ORDER BY sequence`, [c.id]);
        expect(events.map((e) => e.type)).toEqual(via === 'invalidate' ? [] : ['connection.degraded']);
      },
    );
  });

  describe.each(PLATFORMS)('%s: our client misconfigured', (platform) => {
    it(`${MISCONFIGURED[platform][0]}: 503 client-misconfigured, readiness 200 listing it, no incident; a working refresh clears it`, async () => {
      const c = await importGrant(w, platform, tenantOf(platform).externalId);
      w.sb.control.failRefreshes(platform, { userExternalId: c.userExternalId }, MISCONFIGURED[platform][1], 1);
      const res = await w.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, w.relayKey);
      expect(res.status).toBe(503);
      expect(res.body.type).toBe('/problems/client-misconfigured');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const view = (await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body;
      expect(view).toMatchObject({ status: 'active', lastError: { kind: 'client_misconfigured' } });
      expect(view.incidentId).toBeUndefined();

      const sick = await ready();
      expect(sick.status).toBe(200);
      expect(sick.body.details.clients).toEqual({ microsoft: 'ok', slack: 'ok', webex: 'ok', zoom: 'ok', [platform]: 'misconfigured' });

      // Another user's refresh goes through: the operator fixed the client.
      const other = await importGrant(w, platform, tenantOf(platform).externalId);
      expect((await w.t.call('POST', `/v1/connections/${other.id}/invalidate`, undefined, w.relayKey)).status).toBe(200);
      expect((await ready()).body.details.clients[platform]).toBe('ok');
    });
  });

  it('after all of it (and a heal poll): no incident, no DM to anyone, every connection active', async () => {
    await sleep(2_500); // heal's poll for broken connections without an incident runs every 2 s
    expect((await w.t.call('GET', '/v1/incidents?limit=500')).body.items).toEqual([]);
    for (const platform of PLATFORMS) {
      expect(w.sb.control.messages(platform), platform).toEqual([]);
      const all = (await w.t.call('GET', `/v1/connections?platform=${platform}&limit=500`, undefined, w.relayKey)).body.items;
      expect(all.length).toBe(transientCases(platform).length + 2);
      expect(all.filter((c: { status: string }) => c.status !== 'active')).toEqual([]);
    }
  });
});
