import { microsoftError } from '../sandbox';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

describe('auto heal: the user loop on Teams', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  const until = async <T>(fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('grant revoked → 409 with incident → one DM with a re-sync link → re-sync → confirmations', async () => {
    const u = await connectUser(w, 'microsoft');
    w.sb.control.failRefreshes('microsoft', { userExternalId: u.userExternalId }, microsoftError(50173, { error: 'invalid_grant' }));
    const res = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ condition: 'grant_revoked', audience: 'user', incidentId: expect.any(String) });
    const dm = await until(() => w.sb.control.messages('microsoft', u.userExternalId)[0]);
    expect(dm.text).toContain('Microsoft Teams');
    const link = dm.links.find((l) => l.includes('/connect/'));
    expect(link).toBeDefined();
    const incident = await w.t.call('GET', `/v1/incidents/${res.body.incidentId}`);
    expect(incident.body).toMatchObject({ status: 'open', condition: 'grant_revoked', audience: 'user', connectionIds: [u.connectionId] });

    w.sb.control.signIn('microsoft', u.userExternalId);
    expect((await followConnectLink(link as string)).status).toBe(200);
    const resolved = await until(async () => {
      const r = await w.t.call('GET', `/v1/incidents/${res.body.incidentId}`);
      return r.body.status === 'resolved' && r.body.prompts.filter((p: { status: string }) => p.status === 'sent').length >= 3 ? r.body : undefined;
    });
    expect(resolved.prompts.map((p: { kind: string }) => p.kind).sort()).toEqual(['confirmation', 'confirmation', 'initial']);
    expect((await w.t.call('POST', `/v1/connections/${u.connectionId}/access-token`, {}, w.relayKey)).status).toBe(200);
  });
});
