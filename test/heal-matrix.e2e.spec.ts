import { Failure, microsoftError, SandboxPlatform, slackError, webexOauthError, zoomOauthError } from '../sandbox';
import { SIGNAL_TABLES } from '../src/platforms/classify';
import { AUDIENCE, Condition } from '../src/platforms/conditions';
import { dms, expireAccessToken, HealTenant, importGrant, incidentWhen, PLATFORM_NAME, resyncLink, sentPrompts, serial, tenantWithAdmins, waitFor } from './support/heal';
import { connectUser, followConnectLink, startWorld, World } from './support/world';

/**
 * SPEC §3/§4, end to end: for every condition each platform's signal table can produce, the
 * platform's real error body makes the token call answer 409 with the incident, the right
 * person is DMed once, and the loop closes (re-sync for users, a successful probe for admins).
 */

const WEBEX_DEAD = 'The refresh token provided is expired, revoked, malformed, or invalid.';

/** One real-shaped failure per condition the platform can produce. */
const CASES: Record<SandboxPlatform, Partial<Record<Condition, Failure>>> = {
  microsoft: {
    grant_revoked: microsoftError(50173),
    mfa_enrollment_required: microsoftError(50079),
    refresh_token_inactive: microsoftError(700082),
    consent_required: microsoftError(65001),
    conditional_access_blocked: microsoftError(53003),
    app_disabled: microsoftError(7000112),
    user_deleted: microsoftError(50034),
    user_disabled: microsoftError(50057),
  },
  slack: {
    grant_revoked: slackError('token_revoked'),
    mfa_enrollment_required: slackError('two_factor_setup_required'),
    refresh_token_inactive: slackError('invalid_refresh_token'),
    consent_required: slackError('team_access_not_granted'),
    conditional_access_blocked: slackError('ekm_access_denied'),
    user_deleted: slackError('account_inactive'),
  },
  webex: {
    grant_revoked: webexOauthError('invalid_request', WEBEX_DEAD),
    refresh_token_inactive: webexOauthError('invalid_request', WEBEX_DEAD),
  },
  zoom: {
    grant_revoked: zoomOauthError('invalid_grant', 'Invalid Token!'),
    refresh_token_inactive: zoomOauthError('invalid_grant', 'Invalid Token!'),
    consent_required: zoomOauthError('invalid_grant', 'Refresh token invalid.'),
    app_disabled: zoomOauthError('invalid_grant', 'The app has been disabled'),
    user_deleted: zoomOauthError('invalid_grant', 'The owner of the token does not exist.'),
  },
};

/** The conditions a signal table can yield: a dead grant is either of the two user ones. */
function producible(platform: SandboxPlatform): Condition[] {
  const out = new Set<Condition>();
  for (const { outcome } of SIGNAL_TABLES[platform].rules) {
    if (outcome === 'dead_grant') ['grant_revoked', 'refresh_token_inactive'].forEach((c) => out.add(c as Condition));
    else if (outcome !== 'transient' && outcome !== 'client_misconfigured') out.add(outcome);
  }
  return [...out].sort();
}

const PLATFORMS: SandboxPlatform[] = ['microsoft', 'slack', 'webex', 'zoom'];

describe.concurrent.each(PLATFORMS)('%s: the matrix end to end', (platform) => {
  let w: World;
  /** Sign-in and consent steps of this platform's sandbox, one at a time. */
  const browser = serial();
  beforeAll(async () => {
    w = await startWorld({ HEAL_PROBE_INTERVAL: '1s' });
  });
  afterAll(() => w.close());

  it('covers every condition the signal table can produce', ({ expect }) => {
    expect(Object.keys(CASES[platform]).sort()).toEqual(producible(platform));
  });

  /**
   * The connection of a case. Outside Microsoft a refresh token's expiry is known only when
   * an importer says so, so inactivity is an imported grant past its refresh-token expiry.
   */
  async function connectionFor(tenant: HealTenant, condition: Condition): Promise<{ id: string; user: string }> {
    if (condition === 'refresh_token_inactive' && platform !== 'microsoft') {
      const imported = await importGrant(w, platform, tenant.externalId, { refreshTokenExpiresAt: new Date(Date.now() - 60_000) });
      return { id: imported.id, user: imported.userExternalId };
    }
    const u = await browser(() => connectUser(w, platform, { tenantExternalId: tenant.externalId, tenantId: tenant.id }));
    return { id: u.connectionId, user: u.userExternalId };
  }

  const cases = Object.entries(CASES[platform]).map(([condition, failure], index) => ({
    condition: condition as Condition,
    failure,
    audience: AUDIENCE[condition as Condition],
    // Half the cases hit the wall through invalidate, half through an expired token.
    via: index % 2 === 0 ? ('invalidate' as const) : ('expired access-token' as const),
  }));
  // User cases first: they are quick and leave the concurrency slots to the probe waits.
  cases.sort((a, b) => (a.audience === b.audience ? 0 : a.audience === 'user' ? -1 : 1));

  it.for(cases)('$condition ($audience, via $via)', { timeout: 60_000 }, async ({ condition, failure, audience, via }, { expect }) => {
    const tenant = await tenantWithAdmins(w, platform, 2);
    const c = await connectionFor(tenant, condition);
    // A user case's failure is consumed by the token call; an admin case's block lasts
    // through the first probe too, then lifts (the admin fixed the policy).
    w.sb.control.failRefreshes(platform, { userExternalId: c.user }, failure, audience === 'user' ? 1 : 2);
    const refreshes = () => w.sb.control.tokenCalls(platform, { userExternalId: c.user, grantType: 'refresh_token' });

    if (via === 'expired access-token') await expireAccessToken(w, c.id);
    const res =
      via === 'invalidate'
        ? await w.t.call('POST', `/v1/connections/${c.id}/invalidate`, undefined, w.relayKey)
        : await w.t.call('POST', `/v1/connections/${c.id}/access-token`, { minValiditySeconds: 60 }, w.relayKey);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: '/problems/reauth-required', condition, audience, incidentId: expect.any(String) });
    const incidentId: string = res.body.incidentId;

    const opened = await w.t.call('GET', `/v1/incidents/${incidentId}`);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ id: incidentId, tenantId: tenant.id, condition, audience, status: 'open', connectionIds: [c.id] });
    const view = await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey);
    expect(view.body).toMatchObject({ status: audience === 'admin' ? 'blocked' : 'needs_reauth', incidentId, lastError: { condition, audience } });

    if (audience === 'user') {
      const initial = await incidentWhen(w, incidentId, 'the user prompt sent', (i) => sentPrompts(i.prompts, 'initial').length === 1);
      expect(initial.prompts).toEqual([expect.objectContaining({ kind: 'initial', recipient: c.user, status: 'sent' })]);
      const [dm, ...more] = dms(w, platform, c.user);
      expect(more).toHaveLength(0);
      expect(dm.text).toContain(PLATFORM_NAME[platform]);
      const link = resyncLink(dm);
      expect(link).toMatch(/\/connect\/[A-Za-z0-9_-]{43}$/);
      for (const admin of tenant.admins) expect(dms(w, platform, admin)).toHaveLength(0);

      const page = await browser(async () => {
        w.sb.control.signIn(platform, c.user);
        return followConnectLink(link as string);
      });
      expect(page.status).toBe(200);
      const healed = await incidentWhen(w, incidentId, 'the re-sync confirmations sent', (i) => i.status === 'resolved' && sentPrompts(i.prompts, 'confirmation').length === 3);
      expect(healed.prompts.map((p: { kind: string; recipient: string }) => `${p.kind}:${p.recipient}`).sort()).toEqual(
        [`initial:${c.user}`, `confirmation:${c.user}`, ...tenant.admins.map((a) => `confirmation:${a}`)].sort(),
      );
      const userDms = dms(w, platform, c.user);
      expect(userDms).toHaveLength(2);
      expect(userDms[1].text).toContain('reconnected');
      for (const admin of tenant.admins) {
        const notes = dms(w, platform, admin);
        expect(notes).toHaveLength(1);
        expect(notes[0].text).toContain(c.user);
        expect(resyncLink(notes[0])).toBeUndefined();
      }
    } else {
      await incidentWhen(w, incidentId, 'the admin prompts sent', (i) => sentPrompts(i.prompts, 'initial').length === 2);
      for (const admin of tenant.admins) {
        const [dm, ...more] = dms(w, platform, admin);
        expect(more).toHaveLength(0);
        expect(dm.text).toContain(PLATFORM_NAME[platform]);
        expect(resyncLink(dm)).toBeUndefined();
      }
      expect(dms(w, platform, c.user)).toHaveLength(0);

      // The first probe still meets the block: nothing resolves and nobody is told again.
      await waitFor('the first probe', () => refreshes() >= 2, 20_000);
      const stillOpen = await w.t.call('GET', `/v1/incidents/${incidentId}`);
      expect(stillOpen.body.status).toBe('open');
      expect((await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey)).body.status).toBe('blocked');

      // The next probe succeeds: resolved, the connection active, one confirmation per admin.
      const healed = await incidentWhen(
        w,
        incidentId,
        'the probe and the confirmations',
        (i) => i.status === 'resolved' && sentPrompts(i.prompts, 'confirmation').length === 2,
        25_000,
      );
      expect(healed.prompts.map((p: { kind: string; recipient: string }) => `${p.kind}:${p.recipient}`).sort()).toEqual(
        tenant.admins.flatMap((a) => [`confirmation:${a}`, `initial:${a}`]).sort(),
      );
      expect(refreshes()).toBe(3);
      for (const admin of tenant.admins) {
        const all = dms(w, platform, admin);
        expect(all).toHaveLength(2);
        expect(all[1].text).toContain('works again');
      }
      expect(dms(w, platform, c.user)).toHaveLength(0);
    }

    const after = await w.t.call('GET', `/v1/connections/${c.id}`, undefined, w.relayKey);
    expect(after.body.status).toBe('active');
    expect(after.body.incidentId).toBeUndefined();
    expect((await w.t.call('POST', `/v1/connections/${c.id}/access-token`, {}, w.relayKey)).status).toBe(200);
  });
});
