import { randomUUID } from 'node:crypto';
import { Sandbox, SandboxPlatform, startSandbox } from '../../sandbox';
import { startTestApp, TestApp } from './app';
import { Browser } from './browser';
import { makeTenant } from './factories';

/** The service on a fresh database, pointed at a fresh platform sandbox. */
export interface World {
  sb: Sandbox;
  t: TestApp;
  relayKey: string;
  close(): Promise<void>;
}

export async function startWorld(env: Record<string, string> = {}, shared?: { sb?: Sandbox; databaseUrl?: string }): Promise<World> {
  const sb = shared?.sb ?? (await startSandbox());
  const t = await startTestApp({ REFRESH_SWEEP_INTERVAL: '1h', ...sb.env, ...env }, shared?.databaseUrl ? { databaseUrl: shared.databaseUrl } : undefined);
  const relay = await t.call('POST', '/v1/api-clients', { name: 'relay', role: 'relay', tenantIds: ['*'] });
  return {
    sb,
    t,
    relayKey: relay.body.apiKey,
    async close() {
      await t.close();
      if (!shared?.sb) await sb.close();
    },
  };
}

/** Ids shaped like each platform's own. */
export function platformIds(platform: SandboxPlatform) {
  const short = () => randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase();
  switch (platform) {
    case 'microsoft':
      return { tenant: randomUUID(), user: randomUUID() };
    case 'slack':
      return { tenant: `T${short()}`, user: `U${short()}` };
    case 'webex':
      return { tenant: `org-${short()}`, user: `person-${short()}` };
    case 'zoom':
      return { tenant: `acct${short()}`, user: `zu${short()}` };
  }
}

/** The tenant bot settings that make its DMs reach the sandbox. */
export function botSettings(w: World, platform: SandboxPlatform, tenantExternalId: string): { bot?: Record<string, string> } {
  switch (platform) {
    case 'microsoft':
      return { bot: { serviceUrl: w.sb.env.MICROSOFT_BOT_SERVICE_URL } };
    case 'slack':
      return { bot: { botToken: w.sb.control.slackBotToken(tenantExternalId) } };
    case 'zoom':
      return { bot: { accountId: tenantExternalId } };
    case 'webex':
      return {};
  }
}

export interface ConnectedUser {
  connectionId: string;
  tenantId: string;
  tenantExternalId: string;
  userExternalId: string;
  platform: SandboxPlatform;
}

/**
 * A person connects through the real pages: connect link → GET page → POST its form →
 * the sandbox's consent screen (auto-approved as the signed-in user) → our callback.
 */
export async function connectUser(
  w: World,
  platform: SandboxPlatform,
  opts: { tenantExternalId?: string; userExternalId?: string; tenantId?: string; bindUser?: boolean } = {},
): Promise<ConnectedUser> {
  const ids = platformIds(platform);
  const tenantExternalId = opts.tenantExternalId ?? ids.tenant;
  const userExternalId = opts.userExternalId ?? ids.user;
  // `opts.tenantId` names a tenant the caller made; the connection's own tenantId is returned.
  if (!opts.tenantId) await makeTenant(w.t, { platform, externalId: tenantExternalId, ...botSettings(w, platform, tenantExternalId) });
  w.sb.control.addUser(platform, { tenantExternalId, userExternalId, email: `${userExternalId.toLowerCase()}@example.com` });
  w.sb.control.signIn(platform, userExternalId);
  const link = await w.t.call('POST', '/v1/connect-links', { platform, tenantExternalId, ...(opts.bindUser === false ? {} : { userExternalId }) }, w.relayKey);
  if (link.status !== 201) throw new Error(`connect link: ${link.status} ${JSON.stringify(link.body)}`);
  const callback = await followConnectLink(link.body.url);
  if (callback.status !== 200) throw new Error(`callback: ${callback.status} ${callback.text}`);
  const found = await w.t.call(
    'GET',
    `/v1/connections?platform=${platform}&tenantExternalId=${encodeURIComponent(tenantExternalId)}&userExternalId=${encodeURIComponent(userExternalId)}`,
    undefined,
    w.relayKey,
  );
  const connection = found.body.items[0];
  return { connectionId: connection.id, tenantId: connection.tenantId, tenantExternalId, userExternalId, platform };
}

/**
 * What a browser does with a connect link; returns the final page of our callback. The same
 * browser (cookie jar) carries the flow's nonce cookie from the POST to the callback.
 */
export async function followConnectLink(url: string, browser = new Browser()): Promise<{ status: number; text: string }> {
  const page = await browser.fetch(url);
  if (page.status !== 200) return { status: page.status, text: await page.text() };
  const form = await browser.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  const consent = form.headers.get('location');
  if (form.status !== 302 || !consent) return { status: form.status, text: await form.text() };
  const approved = await browser.fetch(consent);
  const back = approved.headers.get('location');
  if (!back) return { status: approved.status, text: await approved.text() };
  const final = await browser.fetch(back);
  return { status: final.status, text: await final.text() };
}
