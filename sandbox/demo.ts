/**
 * `npm run demo`: the sandbox and the service on a throw-away embedded PostgreSQL. Sample
 * users connect on all four platforms through the real pages; each matrix condition a
 * platform can produce is injected; the prompts, links and confirmations are printed as
 * they arrive, and each case is healed (re-sync for users, a fixed policy for admins).
 * A relay's webhook receiver runs beside them: every event is printed as it arrives, verified
 * with the `standardwebhooks` library as a relay would. Last, a generic OpenID Connect provider
 * (SPEC §13, the real `oidc-provider` as `acme`) is connected, revoked at the provider, and
 * healed through the re-sync url its `connection.broken` event carries: it has no bot.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { ApiClientsService } from '../src/api-clients/api-clients.service';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/load-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';
import { Failure, microsoftError, slackError, startSandbox, webexOauthError, zoomOauthError } from './index';
import { providerEntry, signInWithoutBrowser, startOidcProvider } from './oidc';
import type { SandboxPlatform } from './types';

const ADMIN_KEY = 'demo-admin-key-0123456789abcdef0123456789';

/** One real-shaped failure per condition each platform can produce. */
const CASES: Record<SandboxPlatform, [string, Failure][]> = {
  microsoft: [
    ['consent_required', microsoftError(65001)],
    ['conditional_access_blocked', microsoftError(53003)],
    ['app_disabled', microsoftError(7000112)],
    ['user_deleted', microsoftError(50034)],
    ['user_disabled', microsoftError(50057)],
    ['grant_revoked', microsoftError(50173, { suberror: 'bad_token' })],
    ['mfa_enrollment_required', microsoftError(50079)],
    ['refresh_token_inactive', microsoftError(700082)],
  ],
  slack: [
    ['consent_required', slackError('team_access_not_granted')],
    ['conditional_access_blocked', slackError('ekm_access_denied')],
    ['user_deleted', slackError('account_inactive')],
    ['grant_revoked', slackError('invalid_refresh_token')],
    ['mfa_enrollment_required', slackError('two_factor_setup_required')],
  ],
  webex: [['grant_revoked', webexOauthError('invalid_request', 'The refresh token provided is expired, revoked, malformed, or invalid.')]],
  zoom: [['grant_revoked', zoomOauthError('invalid_grant', 'Invalid Token!')]],
};

const ids = (p: SandboxPlatform) =>
  p === 'microsoft'
    ? { tenant: randomUUID(), user: () => randomUUID() }
    : { tenant: `T${randomUUID().slice(0, 8).toUpperCase()}`, user: () => `U${randomUUID().slice(0, 8).toUpperCase()}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-demo-'));
  const pg = await startEmbeddedPostgres({ dataDir });
  const sb = await startSandbox();
  const op = await startOidcProvider();
  const providersFile = path.join(dataDir, 'providers.json');
  writeFileSync(providersFile, JSON.stringify({ providers: [providerEntry(op)] }));
  const config = loadConfig({
    ...sb.env,
    PROVIDERS_FILE: providersFile,
    ACME_CLIENT_SECRET: op.clientSecret,
    DATABASE_URL: pg.url,
    VAULT_KEYS: `demo:${Buffer.alloc(32, 9).toString('base64')}`,
    ADMIN_API_KEY: ADMIN_KEY,
    HEAL_PROBE_INTERVAL: '2s',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true', // the receiver below is on 127.0.0.1
    REFRESH_SWEEP_INTERVAL: '1s',
    LOG_LEVEL: 'silent',
  });
  await runMigrations(pg.url);
  const app = await createApp(config, pg.url, pino({ level: 'silent' }));
  await app.get(ApiClientsService).bootstrap();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  config.publicBaseUrl = base;
  op.configure((name) => `${base}/oauth/${name}/callback`);
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(base + p, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const relay = (await api('POST', '/v1/api-clients', { name: 'demo relay', role: 'relay', tenantIds: ['*'] })).body.apiKey as string;
  const relayCall = (p: string) =>
    fetch(base + p, { method: 'POST', headers: { authorization: `Bearer ${relay}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  // A relay's receiver: verifies each delivery with the endpoint's secret and prints the event.
  const consumer: { webhook?: Webhook } = {}; // its secret comes once the endpoint exists
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const e = consumer.webhook?.verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
        const facts = ['condition', 'audience', 'status', 'url'].filter((k) => e.data[k] !== undefined).map((k) => `${k}=${String(e.data[k])}`);
        console.log(`    📨 webhook ${e.type} (verified) ${facts.join(' ')}`);
        res.writeHead(204).end();
      } catch (err) {
        console.log(`    📨 webhook refused: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = await api('POST', '/v1/webhook-endpoints', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['*'], description: 'demo relay' });
  consumer.webhook = new Webhook(hook.body.secret as string);

  const printed = new Set<unknown>();
  const watch = setInterval(() => {
    for (const p of ['microsoft', 'slack', 'webex', 'zoom'] as const) {
      for (const m of sb.control.messages(p)) {
        if (printed.has(m)) continue;
        printed.add(m);
        console.log(`    💬 [${p}] DM to ${m.recipient}: ${m.text.replace(/\s+/g, ' ').slice(0, 220)}${m.links.length ? `\n       link: ${m.links[0]}` : ''}`);
      }
    }
  }, 100);

  const browse = async (url: string) => {
    const form = await fetch(url, { method: 'POST', redirect: 'manual' });
    // The flow is bound to the browser that started it (SPEC §5): carry its nonce cookie back.
    const cookie = form.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const consent = await fetch(form.headers.get('location') ?? '', { redirect: 'manual' });
    return (await fetch(consent.headers.get('location') ?? '', { redirect: 'manual', headers: { cookie } })).status;
  };

  /** SPEC §13: a generic provider has no bot; the relay shows the re-sync url of the event. */
  const generic = async () => {
    const user = 'alice';
    await api('POST', '/v1/tenants', { platform: 'acme', externalId: 'acme-corp', name: 'acme demo org', admins: [{ userExternalId: 'acme-admin' }] });
    console.log(`== acme (generic OpenID Connect provider at ${op.issuer}): tenant acme-corp`);
    const link = await api('POST', '/v1/connect-links', { platform: 'acme', tenantExternalId: 'acme-corp', userExternalId: user });
    console.log(`  ${user} signs in at the provider's own login and consent pages → ${await signInWithoutBrowser(link.body.url as string, user)}`);
    const found = await api('GET', `/v1/connections?platform=acme&tenantExternalId=acme-corp&userExternalId=${user}`);
    const connectionId = (found.body.items as { id: string }[])[0].id;
    await op.revokeAccount(user);
    console.log(`  grant_revoked: ${user}'s grant is revoked at the provider`);
    const res = await relayCall(`/v1/connections/${connectionId}/invalidate`);
    console.log(`    relay gets ${res.status} ${String(res.body.type)}: condition=${String(res.body.condition)} audience=${String(res.body.audience)}`);
    await sleep(600);
    const events = await api('GET', '/v1/events?type=connection.broken');
    const broken = (events.body.items as { data: { connectionId: string; url?: string } }[]).find((e) => e.data.connectionId === connectionId);
    if (broken?.data.url) console.log(`    ${user} opens the event's re-sync url → ${await signInWithoutBrowser(broken.data.url, user)}`);
    await sleep(800);
    const incident = await api('GET', `/v1/incidents/${String(res.body.incidentId)}`);
    console.log(`    incident ${String(incident.body.status)}; prompts: ${(incident.body.prompts as unknown[]).length} (no bot: the events were the prompt)`);
  };

  try {
    console.log(`Auto Heal demo: service at ${base}, sandbox platforms on 127.0.0.1, webhook receiver ${String(hook.status === 201 ? 'subscribed' : hook.status)}\n`);
    for (const platform of ['microsoft', 'slack', 'webex', 'zoom'] as const) {
      const id = ids(platform);
      const admin = id.user();
      const bot =
        platform === 'microsoft'
          ? { serviceUrl: sb.env.MICROSOFT_BOT_SERVICE_URL }
          : platform === 'slack'
            ? { botToken: sb.control.slackBotToken(id.tenant) }
            : platform === 'zoom'
              ? { accountId: id.tenant }
              : undefined;
      await api('POST', '/v1/tenants', {
        platform,
        externalId: id.tenant,
        name: `${platform} demo org`,
        admins: [{ userExternalId: admin, email: 'admin@example.com' }],
        ...(bot ? { bot } : {}),
      });
      console.log(`== ${platform}: tenant ${id.tenant}, admin ${admin}`);
      for (const [condition, failure] of CASES[platform]) {
        const user = id.user();
        sb.control.addUser(platform, { tenantExternalId: id.tenant, userExternalId: user, email: `${user.toLowerCase()}@example.com` });
        sb.control.signIn(platform, user);
        const link = await api('POST', '/v1/connect-links', { platform, tenantExternalId: id.tenant, userExternalId: user });
        await browse(link.body.url as string);
        const found = await api('GET', `/v1/connections?platform=${platform}&tenantExternalId=${id.tenant}&userExternalId=${user}`);
        const connectionId = (found.body.items as { id: string }[])[0].id;
        console.log(`  ${condition}: ${user} connected (${connectionId}); injecting the platform's error`);
        sb.control.failRefreshes(platform, { userExternalId: user }, failure);
        const res = await relayCall(`/v1/connections/${connectionId}/invalidate`);
        console.log(
          `    relay gets ${res.status} ${String(res.body.type)}: condition=${String(res.body.condition)} audience=${String(res.body.audience)} incident=${String(res.body.incidentId)}`,
        );
        await sleep(600);
        if (res.body.audience === 'user') {
          const dm = sb.control.messages(platform, user).at(-1);
          const resync = dm?.links.find((l) => l.includes('/connect/'));
          sb.control.clearFailures(platform);
          if (resync) console.log(`    ${user} opens the re-sync link → ${await browse(resync)}`);
        } else {
          sb.control.clearFailures(platform);
          console.log('    the admin fixes the policy; the service re-probes…');
          await sleep(config.healProbeIntervalMs + 5_500);
        }
        await sleep(800);
        const incident = await api('GET', `/v1/incidents/${String(res.body.incidentId)}`);
        console.log(
          `    incident ${String(incident.body.status)}; prompts: ${(incident.body.prompts as { kind: string; status: string }[]).map((p) => `${p.kind}:${p.status}`).join(', ')}`,
        );
      }
    }
    await generic();
  } finally {
    clearInterval(watch);
    await sleep(500); // the last events' deliveries
    receiver.closeAllConnections();
    receiver.close();
    await app.close();
    await sb.close();
    await op.close();
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
