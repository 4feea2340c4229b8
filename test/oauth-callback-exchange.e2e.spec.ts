import { Failure, microsoftError, oauthError, SandboxPlatform, slackError } from '../sandbox';
import { Browser } from './support/browser';
import { escapeHtml } from '../src/common/html';
import { makeTenant } from './support/factories';
import { followConnectLink, platformIds, startWorld, World } from './support/world';

/** The callback's two pages for a failed code exchange (SPEC §3: transient or permanent). */
const TRANSIENT = 'The platform is not answering right now. Open your link again in a few minutes.';
const REFUSED = 'The platform refused the sign-in. Open your link again to retry.';

/** A 429 whose body says something permanent: the status decides (SPEC §3). */
const RATE_LIMITED: Record<SandboxPlatform, Failure> = {
  microsoft: { status: 429, body: microsoftError(70000).body, headers: { 'retry-after': '7' } },
  slack: slackError('ratelimited', 7),
  webex: { status: 429, body: { message: 'Too Many Requests', trackingId: 'ROUTER_429' }, headers: { 'retry-after': '7' } },
  zoom: { status: 429, body: { reason: 'Invalid Token!', error: 'invalid_grant' }, headers: { 'retry-after': '7' } },
};
const REFUSALS: Record<SandboxPlatform, Failure> = {
  microsoft: microsoftError(70000),
  slack: slackError('invalid_code'),
  webex: oauthError('invalid_grant', 'The authorization code is invalid.'),
  zoom: { status: 400, body: { reason: 'Invalid authorization code', error: 'invalid_grant' } },
};

describe('OAuth callback: a failed code exchange', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.sb.control.clearFailures());

  /** A tenant, a person signed in to the platform, and a connect link naming them. */
  async function setUp(platform: SandboxPlatform): Promise<{ url: string; tenantExternalId: string; userExternalId: string }> {
    const { tenant: tenantExternalId, user: userExternalId } = platformIds(platform);
    await makeTenant(w.t, { platform, externalId: tenantExternalId, ...(platform === 'slack' ? { bot: { botToken: w.sb.control.slackBotToken(tenantExternalId) } } : {}) });
    w.sb.control.addUser(platform, { tenantExternalId, userExternalId });
    w.sb.control.signIn(platform, userExternalId);
    const link = await w.t.call('POST', '/v1/connect-links', { platform, tenantExternalId, userExternalId }, w.relayKey);
    expect(link.status).toBe(201);
    return { url: link.body.url as string, tenantExternalId, userExternalId };
  }
  const connections = async (platform: SandboxPlatform, tenantExternalId: string): Promise<unknown[]> => {
    const res = await w.t.call('GET', `/v1/connections?platform=${platform}&tenantExternalId=${encodeURIComponent(tenantExternalId)}`, undefined, w.relayKey);
    expect(res.status).toBe(200);
    return res.body.items as unknown[];
  };
  const exchanges = (platform: SandboxPlatform) => w.sb.control.tokenCalls(platform, { grantType: 'authorization_code' });

  it.each(['microsoft', 'slack', 'webex', 'zoom'] as const)('%s: answered 429 → 502 "try again in a few minutes", nothing stored, and the link still works', async (platform) => {
    const { url, tenantExternalId } = await setUp(platform);
    w.sb.control.failExchanges(platform, RATE_LIMITED[platform], 1);
    const before = exchanges(platform);

    const page = await followConnectLink(url);
    expect(exchanges(platform)).toBe(before + 1);
    expect(page.status).toBe(502);
    expect(page.text).toContain('The platform did not complete the sign-in');
    expect(page.text).toContain(escapeHtml(TRANSIENT));
    expect(page.text).not.toContain(escapeHtml(REFUSED));
    expect(await connections(platform, tenantExternalId)).toHaveLength(0);

    // What the page says works: the same link, opened again once the platform answers.
    const again = await followConnectLink(url);
    expect(again.status).toBe(200);
    expect(await connections(platform, tenantExternalId)).toHaveLength(1);
  });

  it.each(['microsoft', 'slack', 'webex', 'zoom'] as const)('%s: a refused code stays a 400 "refused" page', async (platform) => {
    const { url, tenantExternalId } = await setUp(platform);
    w.sb.control.failExchanges(platform, REFUSALS[platform], 1);

    const page = await followConnectLink(url);
    expect(page.status).toBe(400);
    expect(page.text).toContain(escapeHtml(REFUSED));
    expect(await connections(platform, tenantExternalId)).toHaveLength(0);
  });

  it("Slack: service_unavailable on HTTP 200 is transient too (a platform's try-later code)", async () => {
    const { url, tenantExternalId } = await setUp('slack');
    w.sb.control.failExchanges('slack', slackError('service_unavailable'), 1);

    const page = await followConnectLink(url);
    expect(page.status).toBe(502);
    expect(page.text).toContain(escapeHtml(TRANSIENT));
    expect(await connections('slack', tenantExternalId)).toHaveLength(0);
  });
});

describe('OAuth start: the consent URL', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.close());

  it("pre-selects the link's Slack workspace with `team`, and still connects", async () => {
    const { tenant: tenantExternalId, user: userExternalId } = platformIds('slack');
    await makeTenant(w.t, { platform: 'slack', externalId: tenantExternalId, bot: { botToken: w.sb.control.slackBotToken(tenantExternalId) } });
    w.sb.control.addUser('slack', { tenantExternalId, userExternalId });
    w.sb.control.signIn('slack', userExternalId);
    const link = await w.t.call('POST', '/v1/connect-links', { platform: 'slack', tenantExternalId }, w.relayKey);
    expect(link.status).toBe(201);
    const url = link.body.url as string;

    const browser = new Browser();
    const form = await browser.fetch(url, { method: 'POST' });
    expect(form.status).toBe(302);
    const consent = new URL(form.headers.get('location') ?? '');
    expect(consent.origin + consent.pathname).toBe(w.t.config.slack.authorizeUrl);
    expect(consent.searchParams.get('team')).toBe(tenantExternalId);
    expect(tenantExternalId).toMatch(/^T[0-9A-Z]+$/);

    const approved = await browser.fetch(consent.toString());
    const back = approved.headers.get('location') ?? '';
    expect(back).toContain('/oauth/slack/callback');
    const done = await browser.fetch(back);
    expect(done.status).toBe(200);
  });
});
