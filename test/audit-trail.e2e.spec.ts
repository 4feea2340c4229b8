import { webexOauthError } from '../sandbox';
import { makeApiKey, makeTenant } from './support/factories';
import { connectUser, startWorld, World } from './support/world';

type AuditItem = { at: string; actor: string; action: string; outcome: string; detail?: Record<string, unknown> };

describe('audit trail of a connection', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  const trail = async (id: string, query = '') => {
    const res = await w.t.call('GET', `/v1/connections/${id}/audit${query}`);
    expect(res.status).toBe(200);
    return res.body as { items: AuditItem[]; nextCursor?: string };
  };

  it('records connect, reads, refreshes (with the failure code) and revoke, never a token, newest first', async () => {
    const started = Date.now();
    const u = await connectUser(w, 'webex');
    const relay = await makeApiKey(w.t, 'relay');
    const read = await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, relay.apiKey);
    expect(read.status).toBe(200);
    const refreshed = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, relay.apiKey);
    expect(refreshed.status).toBe(200);
    w.sb.control.failRefreshes(
      'webex',
      { userExternalId: u.userExternalId },
      webexOauthError('invalid_grant', 'The refresh token provided is expired, revoked, malformed, or invalid.'),
    );
    expect((await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, relay.apiKey)).status).toBe(409);
    expect((await w.t.call('DELETE', `/v1/connections/${u.connectionId}`)).status).toBe(200);

    const { items } = await trail(u.connectionId);
    const actions = items.map((e) => `${e.action}:${e.outcome}`);
    expect(actions[0]).toBe('connection.revoke:revoked');
    expect(actions.at(-1)).toBe('connection.connect:created');
    expect(actions).toContain('token.refresh:success');
    expect(actions).toContain('token.refresh:grant_revoked');
    expect(items.find((e) => e.outcome === 'grant_revoked')?.detail).toEqual({ code: 'invalid_grant' });
    expect(items.filter((e) => e.action === 'token.read' && e.actor === relay.id).length).toBeGreaterThanOrEqual(2);
    const text = JSON.stringify(items);
    expect(text).not.toContain(read.body.accessToken);
    expect(text).not.toContain(refreshed.body.accessToken);
    const times = items.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // Recorded when they happened, to the millisecond (the batch carries epoch milliseconds).
    expect(Math.min(...times)).toBeGreaterThanOrEqual(started);
    expect(Math.max(...times)).toBeLessThanOrEqual(Date.now());
  });

  it('pages with nextCursor and refuses a forged cursor', async () => {
    const u = await connectUser(w, 'zoom');
    for (let i = 0; i < 4; i++) await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey);
    const first = await trail(u.connectionId, '?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await trail(u.connectionId, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items).toHaveLength(2);
    expect(second.items[0]).not.toEqual(first.items[1]);
    const forged = await w.t.call('GET', `/v1/connections/${u.connectionId}/audit?cursor=${Buffer.from('1 OR 1=1').toString('base64url')}`);
    expect(forged.status).toBe(400);
    expect(forged.body.type).toBe('/problems/validation-failed');
  });

  it('is for admins within their tenant scope only', async () => {
    const u = await connectUser(w, 'slack');
    const other = await makeTenant(w.t, { platform: 'slack' });
    const scopedAdmin = await makeApiKey(w.t, 'admin', [other.id]);
    expect((await w.t.call('GET', `/v1/connections/${u.connectionId}/audit`, undefined, scopedAdmin.apiKey)).status).toBe(404);
    expect((await w.t.call('GET', `/v1/connections/${u.connectionId}/audit`, undefined, w.relayKey)).status).toBe(403);
  });
});
