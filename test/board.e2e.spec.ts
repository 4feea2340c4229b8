import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { microsoftError, slackError } from '../sandbox';
import { RefreshSweep } from '../src/connections/refresh/refresh-sweep';
import { ADMIN_KEY } from './support/app';
import { launchChromium } from './support/chromium';
import { HealTenant, importGrant, sql, tenantWithAdmins, waitFor } from './support/heal';
import { botSettings, platformIds, startWorld, World } from './support/world';
import { makeTenant } from './support/factories';

const AXE = readFileSync(path.join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');
/** `BOARD_SCREENSHOTS=docs/board npx vitest run test/board.e2e.spec.ts` writes the README's screenshots. */
const SHOTS = process.env.BOARD_SCREENSHOTS;

/**
 * SPEC §12 in headless Chromium: a seeded scenario (a Conditional Access block on 50 Teams users,
 * 3 revoked Slack grants), then the board as an operator and as a tenant admin would use it, every
 * page checked by axe-core, and no console error or CSP violation anywhere.
 */
describe('the admin board in a browser', () => {
  let w: World;
  let browser: Browser;
  let ms: HealTenant;
  let sl: HealTenant;
  const revoked: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    w = await startWorld({ RATE_LIMIT: 'off', HEAL_PROBE_INTERVAL: '1h' });
    browser = await launchChromium();
    ms = await tenantWithAdmins(w, 'microsoft', 2);
    sl = await tenantWithAdmins(w, 'slack', 1);
    await Promise.all(Array.from({ length: 50 }, () => importGrant(w, 'microsoft', ms.externalId)));
    for (let i = 0; i < 3; i++) revoked.push((await importGrant(w, 'slack', sl.externalId)).id);
    w.sb.control.failRefreshes('microsoft', { tenantExternalId: ms.externalId }, microsoftError(53003));
    w.sb.control.failRefreshes('slack', { tenantExternalId: sl.externalId }, slackError('token_revoked'));
    await sql(w, `UPDATE connections SET next_refresh_at = now()`);
    await w.t.app.get(RefreshSweep).sweep();
    await waitFor('1 admin and 3 user incidents', async () => (await w.t.call('GET', '/v1/incidents?status=open')).body.items.length === 4 || undefined);
    w.sb.control.clearFailures('microsoft');
    w.sb.control.clearFailures('slack');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  /** A fresh browser profile; its console errors are collected unless the test expects an error answer. */
  async function context(expectErrorPages = false): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !expectErrorPages) consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    return { ctx, page };
  }

  async function signIn(page: Page, key = ADMIN_KEY): Promise<void> {
    await page.goto(`${w.t.url}/board`);
    expect(new URL(page.url()).pathname).toBe('/board/sign-in');
    await page.getByLabel('Admin API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${w.t.url}/board`);
  }

  /** axe-core on the open page: no serious or critical violation. */
  async function accessible(page: Page, name: string): Promise<void> {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run();
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    expect({ page: name, violations }).toEqual({ page: name, violations: [] });
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
      }
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  }

  const cells = (page: Page, first: string) =>
    page
      .locator('tr', { has: page.locator(`td:text-is("${first}")`) })
      .first()
      .locator('td')
      .allTextContents();

  it('signs in with an admin key; the overview shows the numbers the API gives', async () => {
    const { ctx, page } = await context();
    await signIn(page);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'autoheal_board');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/board' });
    expect(cookies.some((c) => c.value.includes(ADMIN_KEY))).toBe(false);

    const blocked = (await w.t.call('GET', `/v1/connections?platform=microsoft&status=blocked&limit=500`)).body.items.length;
    const needsReauth = (await w.t.call('GET', `/v1/connections?platform=slack&status=needs_reauth&limit=500`)).body.items.length;
    expect([blocked, needsReauth]).toEqual([50, 3]);
    // platform, active, degraded, needs_reauth, blocked, revoked, client
    expect((await cells(page, 'microsoft')).slice(0, 6)).toEqual(['microsoft', '0', '0', '0', String(blocked), '0']);
    expect((await cells(page, 'slack')).slice(0, 6)).toEqual(['slack', '0', '0', String(needsReauth), '0', '0']);
    const open = (await w.t.call('GET', '/v1/incidents?status=open')).body.items as { condition: string }[];
    expect(await page.locator('tr', { hasText: 'conditional_access_blocked' }).locator('td').last().textContent()).toBe(
      String(open.filter((i) => i.condition === 'conditional_access_blocked').length),
    );
    expect(await page.locator('tr', { hasText: 'grant_revoked' }).locator('td').last().textContent()).toBe(String(open.filter((i) => i.condition === 'grant_revoked').length));
    expect(await page.locator('svg[role=img]').getAttribute('aria-label')).toMatch(/Refresh outcomes per hour/);
    await accessible(page, 'overview');
    await ctx.close();
  });

  it('incident → connection timeline → a fresh re-sync link, followed in the same browser → the incident resolves', async () => {
    const { ctx, page } = await context();
    await signIn(page);
    await page.getByRole('link', { name: 'Incidents' }).click();
    await accessible(page, 'incidents');
    const incident = (await w.t.call('GET', `/v1/incidents?status=open&tenantId=${sl.id}`)).body.items[0];
    await page.getByRole('link', { name: incident.id.slice(0, 8) }).click();
    await expect.poll(() => page.locator('#incident-status').textContent()).toBe('open');
    expect(await page.locator('.notice').textContent()).toMatch(/revoked or expired/);
    await accessible(page, 'incident');
    const connection = (await w.t.call('GET', `/v1/connections/${incident.connectionIds[0]}`)).body;
    await page.getByRole('link', { name: connection.userExternalId }).click();
    const timeline = await page.locator('table', { hasText: 'token.refresh' }).textContent();
    expect(timeline).toContain('token_revoked'); // the refresh that failed, with the platform's code
    expect(timeline).toContain('prompt.initial (grant_revoked)'); // the DM that told the user
    expect(timeline).toContain('key "bootstrap admin"'); // the import, by key name
    await page.getByRole('button', { name: 'Issue a fresh re-sync link' }).click();
    await accessible(page, 'connection');
    w.sb.control.signIn('slack', connection.userExternalId);
    await page.locator('#resync-link').click();
    await accessible(page, 'connect');
    await page.getByRole('button', { name: /^Continue to Slack/ }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/callback'));
    expect(await page.locator('h1').textContent()).toBe('Connected');
    await accessible(page, 'connected');
    await page.goto(`${w.t.url}/board/incidents/${incident.id}`);
    expect(await page.locator('#incident-status').textContent()).toBe('resolved');
    await ctx.close();
  });

  it('a tenant-scoped admin key sees only its tenants', async () => {
    const key = (await w.t.call('POST', '/v1/api-clients', { name: 'slack admin', role: 'admin', tenantIds: [sl.id] })).body.apiKey as string;
    const { ctx, page } = await context(true); // it opens a foreign incident: a 404 page
    await signIn(page, key);
    expect((await cells(page, 'microsoft')).slice(1, 6)).toEqual(['0', '0', '0', '0', '0']); // its scope holds no Teams connection
    expect((await cells(page, 'slack')).slice(3, 4)).toEqual(['2']); // one of its three re-synced above
    await page.goto(`${w.t.url}/board/tenants`);
    expect(await page.locator('main h2').count()).toBe(1); // one tenant in its scope
    expect(await page.locator('main').textContent()).toContain(sl.externalId);
    expect(await page.locator('main').textContent()).not.toContain(ms.externalId);
    const foreign = (await w.t.call('GET', `/v1/incidents?status=open&tenantId=${ms.id}`)).body.items[0];
    const res = await page.goto(`${w.t.url}/board/incidents/${foreign.id}`);
    expect(res?.status()).toBe(404);
    await ctx.close();
  });

  it('a form POST without the session’s CSRF token is refused and changes nothing', async () => {
    const { ctx, page } = await context();
    await signIn(page);
    const session = (await ctx.cookies()).find((c) => c.name === 'autoheal_board')?.value ?? '';
    const links = async () => (await sql<{ n: number }>(w, `SELECT count(*)::int AS n FROM connect_links`))[0].n;
    const before = await links();
    for (const body of ['', '_csrf=forged']) {
      const res = await fetch(`${w.t.url}/board/connections/${revoked[1]}/resync-link`, {
        method: 'POST',
        headers: { cookie: `autoheal_board=${session}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
      expect(res.status).toBe(403);
    }
    expect(await links()).toBe(before);
    await ctx.close();
  });

  it('tenants: a test DM reaches the admin through the bot', async () => {
    const { ctx, page } = await context();
    await signIn(page);
    await page.goto(`${w.t.url}/board/tenants`);
    await accessible(page, 'tenants');
    const before = w.sb.control.messages('microsoft', ms.admins[0]).length;
    await page.locator('section', { hasText: ms.externalId }).locator('tr', { hasText: ms.admins[0] }).getByRole('button', { name: 'Send a test DM' }).click();
    expect(await page.locator('[role=status]').textContent()).toMatch(/Test DM sent/);
    expect(w.sb.control.messages('microsoft', ms.admins[0])).toHaveLength(before + 1);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await accessible(page, 'webhooks');
    await ctx.close();
  });

  it.each(['microsoft', 'slack', 'webex', 'zoom'] as const)('the whole OAuth flow of %s in the browser', async (platform) => {
    const ids = platformIds(platform);
    await makeTenant(w.t, { platform, externalId: ids.tenant, ...botSettings(w, platform, ids.tenant) });
    w.sb.control.addUser(platform, { tenantExternalId: ids.tenant, userExternalId: ids.user, email: `${ids.user.toLowerCase()}@example.com` });
    w.sb.control.signIn(platform, ids.user);
    const link = await w.t.call('POST', '/v1/connect-links', { platform, tenantExternalId: ids.tenant, userExternalId: ids.user }, w.relayKey);
    const { ctx, page } = await context();
    await page.goto(link.body.url);
    await page.getByRole('button', { name: /^Continue to / }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/callback'));
    expect(await page.locator('h1').textContent()).toBe('Connected');
    const found = await w.t.call('GET', `/v1/connections?platform=${platform}&tenantExternalId=${ids.tenant}&userExternalId=${ids.user}`, undefined, w.relayKey);
    expect(found.body.items[0]).toMatchObject({ status: 'active' });
    await ctx.close();
  });

  it('the sign-in, problem and link-error pages are accessible, and no page logged a console error or a CSP violation', async () => {
    const { ctx, page } = await context();
    await page.goto(`${w.t.url}/board/sign-in`);
    await accessible(page, 'sign-in');
    await page.goto(`${w.t.url}/problems/reauth-required`);
    await accessible(page, 'problem');
    await ctx.close();
    const errors = await context(true); // an unknown link answers 404: the page is what is checked
    await errors.page.goto(`${w.t.url}/connect/${'x'.repeat(43)}`);
    expect(await errors.page.locator('h1').textContent()).toMatch(/link/i);
    await accessible(errors.page, 'link-error');
    await errors.ctx.close();
    expect(consoleErrors).toEqual([]);
  });
});
