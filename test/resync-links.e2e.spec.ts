import { randomBytes } from 'node:crypto';
import { Failure, microsoftError, SandboxPlatform, slackError } from '../sandbox';
import { dms, importGrant, resyncLink, sleep, tenantWithAdmins, waitFor } from './support/heal';
import { Browser } from './support/browser';
import { connectUser, followConnectLink, platformIds, startWorld, World } from './support/world';

/**
 * SPEC §1/§4 and docs/auto-heal.md: a re-sync link is single use, expires, is bound to the
 * person it names, cannot be forged, and is void once its incident resolves another way.
 * Every refusal is an HTML page with a 4xx, and stores nothing.
 */

const DEAD_GRANT: Partial<Record<SandboxPlatform, Failure>> = { slack: slackError('invalid_refresh_token'), microsoft: microsoftError(50173) };

interface Broken {
  id: string;
  user: string;
  tenantExternalId: string;
  incidentId: string;
  link: string;
}

/** A connected user whose grant died: the incident is open and its DM carries a re-sync link. */
async function brokenUser(w: World, platform: SandboxPlatform): Promise<Broken> {
  const tenant = await tenantWithAdmins(w, platform, 1);
  const u = await connectUser(w, platform, { tenantExternalId: tenant.externalId, tenantId: tenant.id });
  w.sb.control.failRefreshes(platform, { userExternalId: u.userExternalId }, DEAD_GRANT[platform] as Failure, 1);
  const res = await w.t.call('POST', `/v1/connections/${u.connectionId}/invalidate`, undefined, w.relayKey);
  expect(res.status).toBe(409);
  const dm = await waitFor('the re-sync DM', () => dms(w, platform, u.userExternalId)[0]);
  const link = resyncLink(dm);
  expect(link).toBeDefined();
  return { id: u.connectionId, user: u.userExternalId, tenantExternalId: tenant.externalId, incidentId: res.body.incidentId, link: link as string };
}

/** What a refused link must leave untouched: the connection, its tenant's list, the incident, the platform. */
async function state(w: World, platform: SandboxPlatform, b: Broken) {
  const connection = (await w.t.call('GET', `/v1/connections/${b.id}`, undefined, w.relayKey)).body;
  const tenantConnections = (await w.t.call('GET', `/v1/connections?platform=${platform}&tenantExternalId=${b.tenantExternalId}&limit=500`, undefined, w.relayKey)).body.items;
  const incident = (await w.t.call('GET', `/v1/incidents/${b.incidentId}`)).body;
  return {
    connection,
    tenantConnections,
    incident,
    codeExchanges: w.sb.control.tokenCalls(platform, { grantType: 'authorization_code' }),
    messages: w.sb.control.messages(platform).length,
  };
}

/** The link's page (GET) and its button (POST) are both refused with this HTML page. */
async function expectRefused(url: string, status: number, says: string): Promise<void> {
  for (const method of ['GET', 'POST']) {
    const res = await fetch(url, { method, redirect: 'manual' });
    expect(res.status, `${method} ${url}`).toBe(status);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain(says);
  }
}

/** The person's browser: it keeps the flow's nonce cookie from the button to the callback. */
const browser = new Browser();

/** Starts the flow (the page's button) and returns the consent URL, without finishing it. */
async function startFlow(url: string): Promise<string> {
  const form = await browser.fetch(url, { method: 'POST' });
  expect(form.status).toBe(302);
  return form.headers.get('location') as string;
}

/** The consent screen approves and the browser comes back to our callback. */
async function finishFlow(consentUrl: string): Promise<{ status: number; text: string }> {
  const approved = await browser.fetch(consentUrl);
  const back = await browser.fetch(approved.headers.get('location') as string);
  return { status: back.status, text: await back.text() };
}

describe('re-sync links', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  it('works once; a used link is refused, also when a second flow had already started', async () => {
    const b = await brokenUser(w, 'slack');
    w.sb.control.signIn('slack', b.user);
    const late = await startFlow(b.link); // another tab started the same link earlier
    expect((await followConnectLink(b.link)).status).toBe(200);
    await waitFor('the incident resolved and its confirmations sent', async () => {
      const i = (await w.t.call('GET', `/v1/incidents/${b.incidentId}`)).body;
      return i.status === 'resolved' && i.prompts.length === 3 && i.prompts.every((p: { status: string }) => p.status === 'sent');
    });
    const before = await state(w, 'slack', b);
    expect(before.connection.status).toBe('active');

    await expectRefused(b.link, 410, 'already used');
    const second = await finishFlow(late);
    expect(second.status).toBe(410);
    expect(second.text).toContain('already used');
    await sleep(300);
    expect(await state(w, 'slack', b)).toEqual(before);
  });

  it('a tampered or forged link is unknown: 404, nothing stored, the real link still works', async () => {
    const b = await brokenUser(w, 'slack');
    const before = await state(w, 'slack', b);
    const token = b.link.slice(b.link.lastIndexOf('/') + 1);
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const base = b.link.slice(0, b.link.lastIndexOf('/') + 1);
    for (const forged of [flipped, randomBytes(32).toString('base64url'), token.slice(0, -1), `${token}A`, `${token.slice(0, -1)}%00`]) {
      await expectRefused(base + forged, 404, 'not valid');
    }
    expect(await state(w, 'slack', b)).toEqual(before);

    w.sb.control.signIn('slack', b.user);
    expect((await followConnectLink(b.link)).status).toBe(200);
  });

  it('followed by another person than it names (Slack): 403, nothing stored, their tokens revoked; the named user can still use it', async () => {
    const b = await brokenUser(w, 'slack');
    const other = platformIds('slack').user;
    w.sb.control.addUser('slack', { tenantExternalId: b.tenantExternalId, userExternalId: other });
    w.sb.control.signIn('slack', other);
    const before = await state(w, 'slack', b);
    const page = await followConnectLink(b.link);
    expect(page.status).toBe(403);
    expect(page.text).toContain('different person');
    expect(page.text).toContain('Nothing was stored');
    const after = await state(w, 'slack', b);
    expect({ ...after, codeExchanges: before.codeExchanges }).toEqual(before);
    expect(after.codeExchanges).toBe(before.codeExchanges + 1);
    const lookup = await w.t.call('GET', `/v1/connections?platform=slack&tenantExternalId=${b.tenantExternalId}&userExternalId=${other}`, undefined, w.relayKey);
    expect(lookup.body.items).toHaveLength(0);
    expect(w.sb.control.revokedTokens('slack').some((t) => t.userExternalId === other)).toBe(true);

    w.sb.control.signIn('slack', b.user);
    expect((await followConnectLink(b.link)).status).toBe(200);
    expect((await w.t.call('GET', `/v1/connections/${b.id}`, undefined, w.relayKey)).body.status).toBe('active');
  });

  it('followed by another person than it names (Teams, a different account picked over the login hint): 403, nothing stored', async () => {
    const b = await brokenUser(w, 'microsoft');
    const other = platformIds('microsoft').user;
    w.sb.control.addUser('microsoft', { tenantExternalId: b.tenantExternalId, userExternalId: other });
    w.sb.control.signIn('microsoft', other);
    const before = await state(w, 'microsoft', b);
    const consent = new URL(await startFlow(b.link));
    expect(consent.searchParams.get('login_hint')).toBe(b.user);
    consent.searchParams.delete('login_hint'); // the person chose another account
    const page = await finishFlow(consent.toString());
    expect(page.status).toBe(403);
    expect(page.text).toContain('different person');
    expect({ ...(await state(w, 'microsoft', b)), codeExchanges: before.codeExchanges }).toEqual(before);
  });

  it('is void once its incident resolves by an import: 410, nothing stored, no prompts', async () => {
    const b = await brokenUser(w, 'slack');
    const imported = await importGrant(w, 'slack', b.tenantExternalId, { userExternalId: b.user });
    expect(imported).toMatchObject({ id: b.id, status: 'active' });
    const incident = (await w.t.call('GET', `/v1/incidents/${b.incidentId}`)).body;
    expect(incident.status).toBe('resolved');
    expect(incident.prompts.map((p: { kind: string }) => p.kind)).toEqual(['initial']);
    const before = await state(w, 'slack', b);
    w.sb.control.signIn('slack', b.user);
    await expectRefused(b.link, 410, 'no longer needed');
    expect((await followConnectLink(b.link)).status).toBe(410);
    await sleep(300);
    expect(await state(w, 'slack', b)).toEqual(before);
    expect(dms(w, 'slack', b.user)).toHaveLength(1);
  });

  it('is void once the user reconnects through a new connect link', async () => {
    const b = await brokenUser(w, 'slack');
    w.sb.control.signIn('slack', b.user);
    const fresh = await w.t.call('POST', '/v1/connect-links', { platform: 'slack', tenantExternalId: b.tenantExternalId, userExternalId: b.user }, w.relayKey);
    expect((await followConnectLink(fresh.body.url)).status).toBe(200);
    await waitFor('the incident resolved', async () => (await w.t.call('GET', `/v1/incidents/${b.incidentId}`)).body.status === 'resolved');
    await expectRefused(b.link, 410, 'no longer needed');
  });

  it('is void once the connection is revoked', async () => {
    const b = await brokenUser(w, 'slack');
    expect((await w.t.call('DELETE', `/v1/connections/${b.id}`)).status).toBe(200);
    const before = await state(w, 'slack', b);
    expect(before.incident.status).toBe('resolved');
    await expectRefused(b.link, 410, 'no longer needed');
    expect(await state(w, 'slack', b)).toEqual(before);
  });
});

describe('re-sync links expire (CONNECT_LINK_TTL=3s)', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ CONNECT_LINK_TTL: '3s' });
  });
  afterAll(() => w.close());

  it('an expired link is refused with a page, also for a flow started before it expired', async () => {
    const b = await brokenUser(w, 'slack');
    w.sb.control.signIn('slack', b.user);
    const started = await startFlow(b.link);
    const before = await state(w, 'slack', b);
    await sleep(3_200);
    await expectRefused(b.link, 410, 'expired');
    const late = await finishFlow(started);
    expect(late.status).toBe(410);
    expect(late.text).toContain('expired');
    expect(await state(w, 'slack', b)).toEqual(before);
    expect((await w.t.call('GET', `/v1/connections/${b.id}`, undefined, w.relayKey)).body.status).toBe('needs_reauth');
  });
});
