import { SchedulerRegistry } from '@nestjs/schedule';
import { slackError } from '../sandbox';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Heal rings the outbox once prompts are queued, and the outbox drains at once: with the
 * outbox's own poll stopped, the prompts of an incident (its DM, then the confirmations of a
 * re-sync) are still delivered, so nothing but the doorbell can have sent them.
 */
describe('auto heal: the outbox drains as soon as heal queues prompts', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
    w.t.app.get(SchedulerRegistry).deleteInterval('heal-outbox');
  });
  afterAll(() => w.close());

  const until = async <T>(fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error('condition not met in time');
      await sleep(50);
    }
  };

  it('a broken connection: its DM goes out with no outbox poll; a re-sync: the confirmations too', async () => {
    expect(w.t.app.get(SchedulerRegistry).getIntervals()).not.toContain('heal-outbox');
    const u = await connectUser(w, 'slack');
    w.sb.control.failRefreshes('slack', { userExternalId: u.userExternalId }, slackError('invalid_refresh_token'));
    const res = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ condition: 'grant_revoked', audience: 'user', incidentId: expect.any(String) });

    const dm = await until(() => w.sb.control.messages('slack', u.userExternalId)[0]);
    const link = dm.links.find((l) => l.includes('/connect/'));
    expect(link).toBeDefined();

    w.sb.control.clearFailures('slack');
    w.sb.control.signIn('slack', u.userExternalId);
    expect((await followConnectLink(link ?? '')).status).toBe(200);
    const resolved = await until(async () => {
      const r = await w.t.call('GET', `/v1/incidents/${res.body.incidentId}`);
      return r.body.status === 'resolved' && r.body.prompts.filter((p: { status: string }) => p.status === 'sent').length === 3 ? r.body : undefined;
    });
    expect(resolved.prompts.map((p: { kind: string }) => p.kind).sort()).toEqual(['confirmation', 'confirmation', 'initial']);
    expect(w.sb.control.messages('slack', u.userExternalId)).toHaveLength(2);
  });
});
