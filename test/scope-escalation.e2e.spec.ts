import { slackError } from '../sandbox';
import { makeApiKey } from './support/factories';
import { importGrant, sql, tenantWithAdmins, waitFor, type HealTenant } from './support/heal';
import { startWorld, World } from './support/world';

interface Attempt {
  method: string;
  path: string;
  body?: unknown;
}

/**
 * SPEC §5 key scope: a tenant-scoped key tried on every `/v1` route of the OpenAPI document
 * against a foreign tenant's ids. An id route or a change never answers 2xx; a list may answer
 * 2xx only with nothing of the foreign tenant in it (an empty page, as for a tenant that does
 * not exist). Afterwards the foreign tenant is exactly as it was.
 */
describe('a tenant-scoped key on every /v1 route against a foreign tenant', () => {
  let w: World;
  let mine: HealTenant;
  let theirs: HealTenant;
  let victim: { id: string; userExternalId: string };
  let broken: { id: string; userExternalId: string };
  let incidentId: string;
  let theirKey: { id: string; apiKey: string };
  let globalKey: { id: string; apiKey: string };
  let foreignMarkers: string[];
  let hooks: { theirs: string; global: string };

  beforeAll(async () => {
    w = await startWorld({ RATE_LIMIT: 'off' });
    mine = await tenantWithAdmins(w, 'slack', 1);
    theirs = await tenantWithAdmins(w, 'slack', 1);
    await importGrant(w, 'slack', mine.externalId);
    victim = await importGrant(w, 'slack', theirs.externalId);
    broken = await importGrant(w, 'slack', theirs.externalId);
    w.sb.control.failRefreshes('slack', { userExternalId: broken.userExternalId }, slackError('invalid_refresh_token'));
    expect((await w.t.call('POST', `/v1/connections/${broken.id}/invalidate`, undefined, w.relayKey)).status).toBe(409);
    incidentId = await waitFor('the incident', async () => (await w.t.call('GET', `/v1/connections/${broken.id}`)).body.incidentId as string | undefined);
    theirKey = await makeApiKey(w.t, 'relay', [theirs.id]);
    globalKey = await makeApiKey(w.t, 'relay', ['*']);
    const hook = async (tenantIds: string[]) => (await w.t.call('POST', '/v1/webhook-endpoints', { url: 'https://93.184.216.34/', events: ['*'], tenantIds })).body.id as string;
    hooks = { theirs: await hook([theirs.id]), global: await hook(['*']) };
    foreignMarkers = [theirs.id, theirs.externalId, victim.id, victim.userExternalId, broken.id, incidentId, theirKey.id, globalKey.id, hooks.theirs, hooks.global];
  });
  afterAll(() => w.close());

  /** Every way of naming the foreign tenant's things on a route, by its OpenAPI path. */
  function attempts(method: string, template: string): Attempt[] {
    const withId = (id: string) => template.replace('{id}', id);
    const key = `${method} ${template}`;
    const foreignImport = {
      platform: 'slack',
      tenantExternalId: theirs.externalId,
      userExternalId: victim.userExternalId,
      accessToken: 'xoxe.xoxp-attacker',
      refreshToken: 'xoxe-1-attacker',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      scopes: ['chat:write'],
    };
    const table: Record<string, Attempt[]> = {
      'POST /v1/api-clients': [
        { method, path: template, body: { name: 'escalate', role: 'admin', tenantIds: ['*'] } },
        { method, path: template, body: { name: 'escalate', role: 'relay', tenantIds: [theirs.id] } },
        { method, path: template, body: { name: 'escalate', role: 'admin', tenantIds: [mine.id, theirs.id] } },
      ],
      'GET /v1/api-clients': [{ method, path: template }],
      'DELETE /v1/api-clients/{id}': [theirKey.id, globalKey.id].map((id) => ({ method, path: withId(id) })),
      'POST /v1/tenants': [{ method, path: template, body: { platform: 'slack', externalId: `T${Date.now()}`, name: 'Mine now', admins: [] } }],
      'GET /v1/tenants/{id}': [{ method, path: withId(theirs.id) }],
      'PATCH /v1/tenants/{id}': [{ method, path: withId(theirs.id), body: { name: 'pwned', admins: [{ userExternalId: 'UATTACKER' }] } }],
      'POST /v1/connect-links': [{ method, path: template, body: { platform: 'slack', tenantExternalId: theirs.externalId, userExternalId: victim.userExternalId } }],
      'GET /v1/connections': [
        { method, path: `${template}?platform=slack&tenantExternalId=${theirs.externalId}` },
        { method, path: `${template}?platform=slack&tenantExternalId=${theirs.externalId}&userExternalId=${victim.userExternalId}` },
        { method, path: template },
      ],
      'POST /v1/connections': [{ method, path: template, body: foreignImport }],
      'GET /v1/connections/{id}': [{ method, path: withId(victim.id) }],
      'GET /v1/connections/{id}/audit': [{ method, path: withId(victim.id) }],
      'POST /v1/connections/{id}/access-token': [{ method, path: withId(victim.id), body: {} }],
      'POST /v1/connections/{id}/invalidate': [{ method, path: withId(victim.id) }],
      'DELETE /v1/connections/{id}': [{ method, path: withId(victim.id) }],
      'GET /v1/incidents': [
        { method, path: `${template}?tenantId=${theirs.id}` },
        { method, path: template },
      ],
      'GET /v1/incidents/{id}': [{ method, path: withId(incidentId) }],
      'GET /v1/platforms': [{ method, path: template }],
      'POST /v1/webhook-endpoints': [['*'], [theirs.id], [mine.id, theirs.id]].map((tenantIds) => ({
        method,
        path: template,
        body: { url: 'https://93.184.216.34/', events: ['*'], tenantIds },
      })),
      'GET /v1/webhook-endpoints': [{ method, path: template }],
      'GET /v1/webhook-endpoints/{id}': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id) })),
      'PATCH /v1/webhook-endpoints/{id}': [hooks.theirs, hooks.global].map((id) => ({
        method,
        path: withId(id),
        body: { url: 'https://93.184.216.34/pwned', tenantIds: [mine.id] },
      })),
      'DELETE /v1/webhook-endpoints/{id}': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id) })),
      'POST /v1/webhook-endpoints/{id}/rotate-secret': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id) })),
      'GET /v1/webhook-endpoints/{id}/deliveries': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id) })),
      'POST /v1/webhook-endpoints/{id}/test': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id) })),
      'POST /v1/webhook-endpoints/{id}/replay': [hooks.theirs, hooks.global].map((id) => ({ method, path: withId(id), body: { since: '2000-01-01T00:00:00Z' } })),
      'GET /v1/events': [
        { method, path: `${template}?tenantId=${theirs.id}` },
        { method, path: `${template}?type=connection.broken` },
        { method, path: `${template}?limit=500` },
      ],
    };
    const found = table[key];
    if (!found) throw new Error(`${key} is a /v1 route this test does not know: add how to aim it at a foreign tenant`);
    return found;
  }

  const isList = (method: string, template: string) => method === 'GET' && !template.includes('{id}');

  it.each(['admin', 'relay'] as const)('a %s key scoped to one tenant never reaches another', async (role) => {
    const scoped = await makeApiKey(w.t, role, [mine.id]);
    const doc = (await w.t.call('GET', '/docs-json', undefined, null)).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), p] as const));
    expect(routes.length).toBeGreaterThanOrEqual(17);
    const before = await sql(w, `SELECT id, version, status FROM connections WHERE tenant_id = $1 ORDER BY id`, [theirs.id]);
    const queuedBefore = await sql(w, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ANY($1::uuid[])`, [Object.values(hooks)]);

    const tried: string[] = [];
    for (const [method, template] of routes) {
      for (const attempt of attempts(method, template)) {
        const res = await w.t.call(attempt.method, attempt.path, attempt.body, scoped.apiKey);
        const label = `${role}: ${attempt.method} ${attempt.path} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        tried.push(label);
        expect(res.status, label).toBeLessThan(500);
        if (res.status < 300) {
          expect(isList(method, template), label).toBe(true);
          for (const marker of foreignMarkers) expect(JSON.stringify(res.body), label).not.toContain(marker);
        }
      }
    }
    expect(tried.length).toBeGreaterThanOrEqual(routes.length);

    // Nothing of theirs changed: rows, tenant, keys, and the victim's token still works.
    expect(await sql(w, `SELECT id, version, status FROM connections WHERE tenant_id = $1 ORDER BY id`, [theirs.id])).toEqual(before);
    expect(await sql(w, `SELECT count(*)::int AS n FROM connections WHERE tenant_id = $1`, [theirs.id])).toEqual([{ n: 2 }]);
    const tenant = await w.t.call('GET', `/v1/tenants/${theirs.id}`);
    expect(tenant.body.name).not.toBe('pwned');
    expect(tenant.body.admins.map((a: { userExternalId: string }) => a.userExternalId)).toEqual(theirs.admins);
    expect((await w.t.call('POST', `/v1/connections/${victim.id}/access-token`, {}, theirKey.apiKey)).status).toBe(200);
    expect((await w.t.call('POST', `/v1/connections/${victim.id}/access-token`, {}, globalKey.apiKey)).status).toBe(200);
    expect(await sql(w, `SELECT count(*)::int AS n FROM api_clients WHERE revoked_at IS NOT NULL`)).toEqual([{ n: 0 }]);
    expect(
      await sql(w, `SELECT count(*)::int AS n FROM webhook_endpoints WHERE url = 'https://93.184.216.34/' AND previous_secret IS NULL AND id = ANY($1::uuid[])`, [
        Object.values(hooks),
      ]),
    ).toEqual([{ n: 2 }]);
    expect(await sql(w, `SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_ids IS NULL OR NOT (tenant_ids <@ $1::uuid[])`, [[mine.id]])).toEqual([{ n: 2 }]);
    // No ping and no replay reached their endpoints.
    expect(await sql(w, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ANY($1::uuid[])`, [Object.values(hooks)])).toEqual(queuedBefore);
    expect(await sql(w, `SELECT count(*)::int AS n FROM events WHERE type = 'ping'`)).toEqual([{ n: 0 }]);
    // No key the attempts created reaches beyond the scoped key's own tenant.
    expect(await sql(w, `SELECT count(*)::int AS n FROM api_clients WHERE name = 'escalate' AND (tenant_ids IS NULL OR NOT (tenant_ids <@ $1::uuid[]))`, [[mine.id]])).toEqual([
      { n: 0 },
    ]);
  });
});
