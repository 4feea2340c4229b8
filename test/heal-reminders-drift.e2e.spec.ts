import type { ExpectStatic } from 'vitest';
import { Failure, microsoftError, SandboxPlatform, slackError } from '../sandbox';
import { missingScopes } from '../src/platforms/scope-catalog';
import { fullScopes } from './support/factories';
import { dms, importGrant, incidentWhen, resyncLink, sentPrompts, serial, sleep, tenantWithAdmins, waitFor } from './support/heal';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

/**
 * SPEC §4: reminders follow HEAL_REMINDER_SCHEDULE and then stop; SPEC §8 and decisions.md:
 * a grant lacking a required scope is blocked / consent_required with an admin incident
 * before any relay call fails.
 */

/** The catalog's required scopes minus one that the drift check does look for. */
function scopesMissingOne(platform: SandboxPlatform): { scopes: string[]; missing: string } {
  const all = fullScopes(platform);
  const missing = all.find(
    (s) =>
      missingScopes(
        platform,
        all.filter((x) => x !== s),
      ).length === 1,
  ) as string;
  return { scopes: all.filter((s) => s !== missing), missing };
}

describe.concurrent('reminders and scope drift', () => {
  describe('reminders (HEAL_REMINDER_SCHEDULE=1s,2s)', () => {
    let w: World;
    beforeAll(async () => {
      // Probes an hour away: the admin incident must stay open through the reminders.
      w = await startWorld({ HEAL_REMINDER_SCHEDULE: '1s,2s', HEAL_PROBE_INTERVAL: '1h' });
    });
    afterAll(() => w.close());

    it('user and admin incidents get two reminders each, then nothing more; a resolved incident gets none', { timeout: 60_000 }, async ({ expect }) => {
      const browser = serial();
      const broken = async (platform: SandboxPlatform, failure: Failure, admins: number) => {
        const tenant = await tenantWithAdmins(w, platform, admins);
        const u = await browser(() => connectUser(w, platform, { tenantExternalId: tenant.externalId, tenantId: tenant.id }));
        w.sb.control.failRefreshes(platform, { userExternalId: u.userExternalId }, failure, 1);
        const res = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
        expect(res.status).toBe(409);
        return { tenant, user: u.userExternalId, incidentId: res.body.incidentId as string };
      };
      const [user, admin, healed] = await Promise.all([
        broken('microsoft', microsoftError(50079), 1),
        broken('slack', slackError('ekm_access_denied'), 2),
        broken('slack', slackError('invalid_refresh_token'), 1),
      ]);

      // The third user re-syncs from the first prompt: their incident resolves before any reminder.
      const first = await waitFor('the prompt to re-sync', () => dms(w, 'slack', healed.user)[0]);
      await browser(async () => {
        w.sb.control.signIn('slack', healed.user);
        expect((await followConnectLink(resyncLink(first) as string)).status).toBe(200);
      });

      const reminded = await incidentWhen(w, user.incidentId, 'two reminders to the user', (i) => sentPrompts(i.prompts, 'reminder').length === 2, 30_000);
      await incidentWhen(w, admin.incidentId, 'two reminders to each admin', (i) => sentPrompts(i.prompts, 'reminder').length === 4, 15_000);
      expect(reminded.status).toBe('open');
      // Reminders are polled every 5 s: wait past one more poll, then nothing more may come.
      await sleep(6_000);

      const userDms = dms(w, 'microsoft', user.user);
      expect(userDms.map((m) => m.text.includes('Reminder:'))).toEqual([false, true, true]);
      const links = userDms.map(resyncLink);
      expect(links.every((l) => l !== undefined)).toBe(true);
      expect(new Set(links).size).toBe(3); // every reminder carries a fresh link
      expect(userDms[2].text).toContain('multi-factor');
      for (const a of admin.tenant.admins) {
        const got = dms(w, 'slack', a);
        expect(got.map((m) => m.text.includes('Reminder:'))).toEqual([false, true, true]);
        expect(got.every((m) => resyncLink(m) === undefined)).toBe(true);
      }
      expect(dms(w, 'slack', admin.user)).toHaveLength(0);
      const kinds = async (id: string) => (await w.t.call('GET', `/v1/incidents/${id}`)).body.prompts.map((p: { kind: string }) => p.kind).sort();
      expect(await kinds(user.incidentId)).toEqual(['initial', 'reminder', 'reminder']);
      expect(await kinds(admin.incidentId)).toEqual(['initial', 'initial', 'reminder', 'reminder', 'reminder', 'reminder']);
      // Once resolved (a re-sync right after the first prompt): the confirmation, then silence.
      // (A reminder that fell due before the re-sync completed would be legitimate, and is allowed.)
      const healedDms = dms(w, 'slack', healed.user);
      const confirmed = healedDms.findIndex((m) => m.text.includes('reconnected'));
      expect(confirmed).toBeGreaterThan(0);
      expect(healedDms.slice(confirmed + 1)).toEqual([]);
      expect(healedDms.filter((m) => m.text.includes('Reminder:')).length).toBeLessThanOrEqual(1);
      const healedIncident = (await w.t.call('GET', `/v1/incidents/${healed.incidentId}`)).body;
      expect(healedIncident.status).toBe('resolved');
      for (const p of healedIncident.prompts.filter((x: { kind: string }) => x.kind === 'reminder')) {
        if (p.sentAt) expect(Date.parse(p.sentAt)).toBeLessThanOrEqual(Date.parse(healedIncident.resolvedAt));
      }
    });
  });

  describe('scope drift (REFRESH_SWEEP_INTERVAL=1s, HEAL_PROBE_INTERVAL=1s)', () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({ REFRESH_SWEEP_INTERVAL: '1s', HEAL_PROBE_INTERVAL: '1s' });
    });
    afterAll(() => w.close());

    /** The drift incident is open, told to each admin once, and a relay's token call names it. */
    async function expectAdminIncident(expect: ExpectStatic, platform: SandboxPlatform, id: string, admins: string[], user: string) {
      const view = await waitFor('the incident attached', async () => {
        const v = (await w.t.call('GET', `/v1/connections/${id}`, undefined, w.relayKey)).body;
        return v.incidentId ? v : undefined;
      });
      expect(view).toMatchObject({ status: 'blocked', lastError: { kind: 'condition', condition: 'consent_required', audience: 'admin', code: 'scope_missing' } });
      const incident = await incidentWhen(w, view.incidentId, 'the admin prompts', (i) => sentPrompts(i.prompts, 'initial').length === admins.length);
      expect(incident).toMatchObject({ condition: 'consent_required', audience: 'admin', status: 'open', connectionIds: [id] });
      for (const a of admins) {
        expect(dms(w, platform, a)).toHaveLength(1);
        expect(dms(w, platform, a)[0].text).toContain('permission');
      }
      expect(dms(w, platform, user)).toHaveLength(0);
      const res = await w.t.call('POST', `/v1/connections/${id}/access-token`, {}, w.relayKey);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ condition: 'consent_required', audience: 'admin', incidentId: view.incidentId });
      return view.incidentId as string;
    }

    it('an import lacking a required scope is blocked at once, before any refresh or relay call', async ({ expect }) => {
      const tenant = await tenantWithAdmins(w, 'microsoft', 2);
      const { scopes, missing } = scopesMissingOne('microsoft');
      const c = await importGrant(w, 'microsoft', tenant.externalId, { scopes });
      expect(c.status).toBe('blocked');
      expect(w.sb.control.tokenCalls('microsoft', { userExternalId: c.userExternalId })).toBe(0);
      const view = (await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body;
      expect(view.lastError.message).toContain(missing);
      await expectAdminIncident(expect, 'microsoft', c.id, tenant.admins, c.userExternalId);
    });

    it(
      'a refresh by the sweep that comes back lacking a required scope is blocked before any relay call; probes do not call it healed while the scope is missing',
      { timeout: 40_000 },
      async ({ expect }) => {
        const tenant = await tenantWithAdmins(w, 'slack', 2);
        const { scopes } = scopesMissingOne('slack');
        // The importer believes the grant is whole; the platform answers the refresh with what it really holds.
        const c = await importGrant(w, 'slack', tenant.externalId, { grantedScopes: scopes, expiresInSeconds: 60 });
        expect(c.status).toBe('active');
        const refreshes = () => w.sb.control.tokenCalls('slack', { userExternalId: c.userExternalId, grantType: 'refresh_token' });
        const incidentId = await waitFor(
          'the sweep to refresh and find the drift',
          async () => {
            const v = (await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body;
            return v.status === 'blocked' && v.incidentId ? (v.incidentId as string) : undefined;
          },
          15_000,
        );
        expect(refreshes()).toBe(1);
        expect(await expectAdminIncident(expect, 'slack', c.id, tenant.admins, c.userExternalId)).toBe(incidentId);

        // Probes refresh the grant fine, but it still lacks the scope: not healed, nobody thanked.
        await waitFor('a probe', () => refreshes() >= 2, 15_000);
        await sleep(1_000);
        const incident = (await w.t.call('GET', `/v1/incidents/${incidentId}`)).body;
        expect(incident.status).toBe('open');
        expect((await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body).toMatchObject({ status: 'blocked', incidentId });
        for (const a of tenant.admins) expect(dms(w, 'slack', a)).toHaveLength(1);
        expect((await w.t.call('GET', `/v1/incidents?tenantId=${tenant.id}`)).body.items).toHaveLength(1);
      },
    );
  });
});
