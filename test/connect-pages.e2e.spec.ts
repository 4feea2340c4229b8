import { Client } from 'pg';
import { Browser } from './support/browser';
import { followConnectLink, platformIds, startWorld, World } from './support/world';
import { makeTenant } from './support/factories';

/** Every OAuth failure gets a clear page, a 4xx, and stores nothing. */
describe('connect links and OAuth pages', () => {
  let w: World;
  let tenantExternalId: string;
  beforeAll(async () => {
    w = await startWorld();
    tenantExternalId = platformIds('slack').tenant;
    await makeTenant(w.t, { platform: 'slack', externalId: tenantExternalId, bot: { botToken: w.sb.control.slackBotToken(tenantExternalId) } });
  });
  afterAll(() => w.close());

  async function link(userExternalId?: string) {
    const res = await w.t.call('POST', '/v1/connect-links', { platform: 'slack', tenantExternalId, ...(userExternalId ? { userExternalId } : {}) }, w.relayKey);
    expect(res.status).toBe(201);
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    return res.body.url as string;
  }
  const user = () => {
    const id = platformIds('slack').user;
    w.sb.control.addUser('slack', { tenantExternalId, userExternalId: id });
    w.sb.control.signIn('slack', id);
    return id;
  };
  const connections = async () => {
    const res = await w.t.call('GET', `/v1/connections?platform=slack&tenantExternalId=${tenantExternalId}&limit=500`, undefined, w.relayKey);
    return res.body.items.length as number;
  };

  it('GET and HEAD show the page without consuming the link; it then works once', async () => {
    const id = user();
    const url = await link(id);
    for (let i = 0; i < 3; i++) {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toMatch(/<form method="post"/);
      expect(html).toContain('Slack');
      expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    }
    expect((await followConnectLink(url)).status).toBe(200);
    const again = await fetch(url);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already used');
  });

  it('refuses unknown, tampered and expired links with a page', async () => {
    const url = await link();
    const tampered = url.slice(0, -2) + (url.endsWith('AA') ? 'BB' : 'AA');
    expect((await fetch(tampered)).status).toBe(404);
    expect((await fetch(`${w.t.url}/connect/short`)).status).toBe(404);
    const db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
    await db.query(`UPDATE connect_links SET expires_at = now() - interval '1 second'`);
    await db.end();
    const expired = await fetch(url);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('expired');
  });

  it('stores nothing when consent is declined', async () => {
    user();
    const url = await link();
    const before = await connections();
    w.sb.control.denyConsent('slack', true);
    try {
      const page = await followConnectLink(url);
      expect(page.status).toBe(403);
      expect(page.text).toContain('Nothing was connected');
    } finally {
      w.sb.control.denyConsent('slack', false);
    }
    expect(await connections()).toBe(before);
  });

  it('stores nothing when another user comes back than the link named', async () => {
    const named = user();
    const url = await link(named);
    user(); // a different person is signed in to the browser
    const before = await connections();
    const page = await followConnectLink(url);
    expect(page.status).toBe(403);
    expect(page.text).toContain('different person');
    expect(await connections()).toBe(before);
  });

  it('refuses a callback with an unknown or replayed state', async () => {
    const bad = await fetch(`${w.t.url}/oauth/slack/callback?code=abc&state=forged`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('cannot be completed');

    user();
    const url = await link();
    const browser = new Browser();
    await browser.fetch(url);
    const form = await browser.fetch(url, { method: 'POST' });
    const consent = await browser.fetch(form.headers.get('location') ?? '');
    const back = consent.headers.get('location') ?? '';
    expect((await browser.fetch(back)).status).toBe(200);
    expect((await browser.fetch(back)).status).toBe(400);
  });

  it('answers 422 for a connect link to an unknown tenant', async () => {
    const res = await w.t.call('POST', '/v1/connect-links', { platform: 'slack', tenantExternalId: 'TNOPE' }, w.relayKey);
    expect(res.status).toBe(422);
  });
});
