import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { escapeHtml } from '../src/common/html';
import { scopeCatalog } from '../src/platforms/scope-catalog';
import type { SandboxPlatform } from '../sandbox';
import { Browser } from './support/browser';
import { makeTenant } from './support/factories';
import { connectUser, platformIds, startWorld, World } from './support/world';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Set-Cookie line split into its name, value and attributes (lower-cased keys). */
function parseSetCookie(line: string): { name: string; value: string; attributes: Record<string, string> } {
  const [pair, ...rest] = line.split(';').map((p) => p.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const a of rest) {
    const [k, ...v] = a.split('=');
    attributes[k.toLowerCase()] = v.join('=');
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/**
 * SPEC §5: the OAuth flow is bound to the browser that started it. A consent URL forwarded to
 * someone else (a victim signed in to the platform) must neither connect nor harm their account.
 */
describe('OAuth flow bound to the browser that started it', () => {
  let w: World;
  let db: Client;
  const platform: SandboxPlatform = 'slack';
  let tenantExternalId: string;
  let tenantId: string;

  beforeAll(async () => {
    // A short pruning interval, so the timer's work is seen within the test.
    w = await startWorld({ OAUTH_PRUNE_INTERVAL: '200ms' });
    db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
    tenantExternalId = platformIds(platform).tenant;
    tenantId = (await makeTenant(w.t, { platform, externalId: tenantExternalId, bot: { botToken: w.sb.control.slackBotToken(tenantExternalId) } })).id;
  });
  afterAll(async () => {
    await db.end();
    await w.close();
  });

  const newUser = (): string => {
    const id = platformIds(platform).user;
    w.sb.control.addUser(platform, { tenantExternalId, userExternalId: id, email: `${id.toLowerCase()}@example.com` });
    return id;
  };
  async function newLink(userExternalId?: string): Promise<string> {
    const res = await w.t.call('POST', '/v1/connect-links', { platform, tenantExternalId, ...(userExternalId ? { userExternalId } : {}) }, w.relayKey);
    expect(res.status).toBe(201);
    return res.body.url as string;
  }
  /** The page's button in `browser`: the consent URL, its state and the Set-Cookie line. */
  async function start(browser: Browser, url: string): Promise<{ consent: string; state: string; setCookie: string[] }> {
    const form = await browser.fetch(url, { method: 'POST' });
    expect(form.status).toBe(302);
    const consent = form.headers.get('location') ?? '';
    return { consent, state: new URL(consent).searchParams.get('state') ?? '', setCookie: form.headers.getSetCookie() };
  }
  /** The platform's consent screen approves as whoever is signed in; returns our callback URL. */
  async function consentAs(browser: Browser, consent: string, user: string): Promise<string> {
    w.sb.control.signIn(platform, user);
    const approved = await browser.fetch(consent);
    const back = approved.headers.get('location');
    expect(back).toContain('/oauth/slack/callback');
    expect(back).toContain('code=');
    return back ?? '';
  }
  const stateRow = async (state: string) => (await db.query(`SELECT used_at, nonce_hash FROM oauth_states WHERE state_hash = $1`, [sha256(state)])).rows[0];
  const linkRow = async (url: string) => (await db.query(`SELECT used_at FROM connect_links WHERE token_hash = $1`, [sha256(url.split('/connect/')[1])])).rows[0];
  const tenantConnections = async () => (await db.query(`SELECT * FROM connections WHERE tenant_id = $1 ORDER BY id`, [tenantId])).rows;
  const tokenOf = async (connectionId: string) => {
    const res = await w.t.call('POST', `/v1/connections/${connectionId}/access-token`, {}, w.relayKey);
    expect(res.status).toBe(200);
    return res.body.accessToken as string;
  };

  it.each([
    ["a link naming nobody (the victim would be connected under the attacker's link)", false],
    ["a link naming the attacker (the identity mismatch would revoke the victim's new tokens)", true],
  ])('a consent URL forwarded to a victim: %s → 400, nothing exchanged, stored, consumed or revoked', async (_, namesAttacker) => {
    const victim = await connectUser(w, platform, { tenantExternalId, tenantId });
    const victimToken = await tokenOf(victim.connectionId);
    const attacker = newUser();
    const url = await newLink(namesAttacker ? attacker : undefined);
    const attackerBrowser = new Browser();
    const { consent, state } = await start(attackerBrowser, url);

    const exchanges = w.sb.control.tokenCalls(platform, { grantType: 'authorization_code' });
    const revoked = w.sb.control.revokedTokens(platform).length;
    const rows = await tenantConnections();

    // The victim, signed in to Slack in their own browser, follows the forwarded URL.
    const victimBrowser = new Browser();
    const back = await consentAs(victimBrowser, consent, victim.userExternalId);
    const page = await victimBrowser.fetch(back);
    expect(page.status).toBe(400);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('in this browser');
    // A guessed nonce under the right cookie name fails the same way.
    const cookieName = `ah_oauth_${sha256(state).toString('base64url').slice(0, 16)}`;
    const guessed = await fetch(back, { headers: { cookie: `${cookieName}=${'A'.repeat(43)}` } });
    expect(guessed.status).toBe(400);

    expect(w.sb.control.tokenCalls(platform, { grantType: 'authorization_code' })).toBe(exchanges);
    expect(w.sb.control.revokedTokens(platform)).toHaveLength(revoked);
    expect(await tenantConnections()).toEqual(rows);
    expect((await stateRow(state)).used_at).toBeNull();
    expect((await linkRow(url)).used_at).toBeNull();
    expect(await tokenOf(victim.connectionId)).toBe(victimToken);

    // The browser that started the flow can still finish it: nothing was consumed.
    const own = await attackerBrowser.fetch(await consentAs(attackerBrowser, consent, attacker));
    expect(own.status).toBe(200);
    expect((await stateRow(state)).used_at).not.toBeNull();
    expect((await linkRow(url)).used_at).not.toBeNull();
    expect(await tokenOf(victim.connectionId)).toBe(victimToken);
  });

  it('sets the nonce cookie HttpOnly, SameSite=Lax, Path=/oauth/, not Secure over http; stores only its hash; clears it when done', async () => {
    const user = newUser();
    const url = await newLink(user);
    const browser = new Browser();
    const { consent, state, setCookie } = await start(browser, url);
    expect(setCookie).toHaveLength(1);
    const cookie = parseSetCookie(setCookie[0]);
    expect(cookie.name).toBe(`ah_oauth_${sha256(state).toString('base64url').slice(0, 16)}`);
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(cookie.attributes).toHaveProperty('httponly');
    expect(cookie.attributes.samesite).toBe('Lax');
    expect(cookie.attributes.path).toBe('/oauth/');
    expect(cookie.attributes['max-age']).toBe('600');
    expect(cookie.attributes).not.toHaveProperty('secure');

    const row = await stateRow(state);
    expect(row.nonce_hash).toEqual(sha256(cookie.value));
    const raw = await db.query(`SELECT count(*)::int AS n FROM oauth_states WHERE position($1::bytea IN nonce_hash) > 0 OR position($1::bytea IN code_verifier) > 0`, [
      Buffer.from(cookie.value),
    ]);
    expect(raw.rows[0].n).toBe(0);

    // Dozens of unrelated cookies in the same header change nothing.
    const noise = Array.from({ length: 60 }, (_, i) => `other_${i}=${'x'.repeat(40)}`).join('; ');
    const back = await consentAs(browser, consent, user);
    const done = await browser.fetch(back, { headers: { cookie: noise } });
    expect(done.status).toBe(200);
    const cleared = parseSetCookie(done.headers.getSetCookie().find((l) => l.startsWith(`${cookie.name}=`)) ?? '');
    expect(cleared.value).toBe('');
    expect(cleared.attributes.path).toBe('/oauth/');
    expect(browser.cookiesFor(new URL(back))).toEqual([]);
  });

  it('marks the cookie Secure when PUBLIC_BASE_URL is https', async () => {
    const secure = await startWorld({ PUBLIC_BASE_URL: 'https://connect.example.com' }, { sb: w.sb });
    try {
      const tenant = platformIds(platform).tenant;
      await makeTenant(secure.t, { platform, externalId: tenant });
      const link = await secure.t.call('POST', '/v1/connect-links', { platform, tenantExternalId: tenant }, secure.relayKey);
      const token = new URL(link.body.url).pathname;
      const form = await fetch(secure.t.url + token, { method: 'POST', redirect: 'manual' });
      expect(form.status).toBe(302);
      const cookie = parseSetCookie(form.headers.getSetCookie()[0] ?? '');
      expect(cookie.name).toMatch(/^ah_oauth_/);
      expect(cookie.attributes).toHaveProperty('secure');
      expect(cookie.attributes).toHaveProperty('httponly');
      expect(cookie.attributes.path).toBe('/oauth/');
    } finally {
      await secure.close();
    }
  });

  it('keeps 5 pending states per link: of 7 flows the oldest fails, the newest works', async () => {
    const user = newUser();
    const url = await newLink(user);
    const browser = new Browser();
    const flows = [];
    for (let i = 0; i < 7; i++) flows.push(await start(browser, url));
    const pending = await db.query(
      `SELECT count(*)::int AS n FROM oauth_states s JOIN connect_links l ON l.id = s.link_id WHERE l.token_hash = $1 AND s.used_at IS NULL AND s.expires_at > now()`,
      [sha256(url.split('/connect/')[1])],
    );
    expect(pending.rows[0].n).toBe(5);
    const oldest = await browser.fetch(await consentAs(browser, flows[0].consent, user));
    expect(oldest.status).toBe(400);
    expect(await oldest.text()).toContain('unknown, already used or older');
    const newest = await browser.fetch(await consentAs(browser, flows[6].consent, user));
    expect(newest.status).toBe(200);
  });

  it('never leaves more than 5 pending states on a link, even for concurrent POSTs', async () => {
    const urls = await Promise.all(Array.from({ length: 4 }, () => newLink()));
    const results = await Promise.all(urls.flatMap((url) => Array.from({ length: 15 }, () => fetch(url, { method: 'POST', redirect: 'manual' }))));
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(302));
    const pending = await db.query(
      `SELECT count(*)::int AS n FROM oauth_states s JOIN connect_links l ON l.id = s.link_id WHERE l.token_hash = ANY($1) AND s.used_at IS NULL GROUP BY l.id`,
      [urls.map((url) => sha256(url.split('/connect/')[1]))],
    );
    expect(pending.rows.map((r) => r.n)).toEqual([5, 5, 5, 5]);
  });

  it('shows a callback error only as a known error code, never free text or error_description', async () => {
    const browser = new Browser();
    const url = await newLink();
    const callback = async (params: Record<string, string>) => {
      const { state } = await start(browser, url);
      const q = new URLSearchParams({ state, ...params });
      const res = await browser.fetch(`${w.t.url}/oauth/slack/callback?${q.toString()}`);
      return { status: res.status, text: await res.text() };
    };
    const script = await callback({ error: '<script>alert(1)</script>', error_description: 'x' });
    expect(script.status).toBe(400);
    expect(script.text).not.toContain('alert(1)');
    expect(script.text).toContain('The platform reported an error.');

    const freeText = await callback({ error: 'Your account is locked, call +1 555 0100', error_description: 'Visit evil.example to unlock' });
    expect(freeText.text).not.toContain('555');
    expect(freeText.text).not.toContain('evil.example');
    expect(freeText.text).toContain('The platform reported an error.');

    const known = await callback({ error: 'temporarily_unavailable', error_description: 'Visit evil.example to unlock' });
    expect(known.status).toBe(400);
    expect(known.text).toContain('&quot;temporarily_unavailable&quot;');
    expect(known.text).not.toContain('evil.example');

    // Without the binding cookie the error is not even looked at.
    const { state } = await start(browser, url);
    const unbound = await fetch(`${w.t.url}/oauth/slack/callback?state=${state}&error=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(unbound.status).toBe(400);
    expect(await unbound.text()).not.toContain('alert(1)');
    expect((await stateRow(state)).used_at).toBeNull();
  });

  it('prunes expired states and long-expired links on its timer, through their expiry indexes', async () => {
    const url = await newLink();
    const live = await start(new Browser(), url);
    const dead = await start(new Browser(), url);
    await db.query(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [sha256(dead.state)]);
    const oldUrl = await newLink();
    const oldState = await start(new Browser(), oldUrl);
    const recentUrl = await newLink();
    await db.query(`UPDATE connect_links SET expires_at = now() - interval '31 days' WHERE token_hash = $1`, [sha256(oldUrl.split('/connect/')[1])]);
    await db.query(`UPDATE connect_links SET expires_at = now() - interval '1 day' WHERE token_hash = $1`, [sha256(recentUrl.split('/connect/')[1])]);

    const deadline = Date.now() + 5_000;
    while (((await stateRow(dead.state)) || (await linkRow(oldUrl))) && Date.now() < deadline) await sleep(100);
    expect(await stateRow(dead.state)).toBeUndefined();
    expect(await linkRow(oldUrl)).toBeUndefined();
    expect(await stateRow(oldState.state)).toBeUndefined(); // went with its link
    expect(await stateRow(live.state)).toBeDefined();
    // A link that expired recently is kept, so its page still says so.
    const expired = await fetch(recentUrl);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('expired');

    // The prune's look-ups can run through the expiry indexes (sequential scans off, so the
    // planner shows whether an index serves them at all on these small tables).
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL enable_seqscan = off');
      const plan = async (sql: string) => (await db.query(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(await plan(`SELECT id FROM oauth_states WHERE expires_at < now() ORDER BY expires_at LIMIT 500`)).toContain('oauth_states_expires_at');
      expect(await plan(`SELECT id FROM connect_links WHERE expires_at < now() - interval '30 days' ORDER BY expires_at LIMIT 500`)).toContain('connect_links_expires_at');
      expect(await plan(`SELECT id FROM oauth_states WHERE link_id = '00000000-0000-0000-0000-000000000000'`)).toContain('oauth_states_link_created');
    } finally {
      await db.query('ROLLBACK');
    }
  });

  it.each(['microsoft', 'slack', 'webex', 'zoom'] as const)('the %s connect page names the person and lists every requested scope with its reason', async (p) => {
    const ids = platformIds(p);
    await makeTenant(w.t, { platform: p, externalId: ids.tenant });
    const person = `${ids.user} <b>"Ada" & co</b>`;
    const res = await w.t.call('POST', '/v1/connect-links', { platform: p, tenantExternalId: ids.tenant, userExternalId: person }, w.relayKey);
    expect(res.status).toBe(201);
    const page = await fetch(res.body.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(escapeHtml(person));
    expect(html).not.toContain('<b>"Ada"');
    const { requiredScopes, reasons } = scopeCatalog(p);
    expect(requiredScopes.length).toBeGreaterThan(0);
    for (const scope of requiredScopes) {
      expect(html).toContain(`<li><code>${escapeHtml(scope)}</code>: ${escapeHtml(reasons[scope])}</li>`);
    }
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<script/i);
  });
});
