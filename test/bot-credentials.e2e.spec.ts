import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { microsoftError } from '../sandbox';
import { loadConfig } from '../src/config/load-config';
import { SERVICE_URL_NOT_ALLOWED, TeamsBotSender } from '../src/platforms/microsoft/teams-bot';
import { upstream } from '../src/platforms/http';
import { ProviderFailure } from '../src/platforms/platform';
import { SlackBotSender } from '../src/platforms/slack/slack-bot';
import { Secret } from '../src/vault/secret';
import { makeTenant } from './support/factories';
import { importGrant, incidentWhen, PromptView, sql, tenantWithAdmins } from './support/heal';
import { platformIds, startWorld, World } from './support/world';

/**
 * SPEC §8: the Bot Framework token is a credential of the whole bot. An attacker holding an
 * admin key points a tenant's `bot.serviceUrl` at a host of theirs; the token must never
 * arrive there, neither through the API, nor through a row written behind its back, nor
 * through a redirect from a host that is allowed.
 */

/** A plain loopback server posing as the attacker's host: it counts every connection and request. */
interface Listener {
  url: string;
  port: number;
  connections: number;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

async function listen(answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{"id":"stolen"}')): Promise<Listener> {
  const server: Server = createServer((req, res) => {
    listener.requests.push(req);
    answer(req, res);
  });
  const listener: Listener = { url: '', port: 0, connections: 0, requests: [], close: () => new Promise((r) => server.close(() => r())) };
  server.on('connection', () => (listener.connections += 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  listener.port = (server.address() as AddressInfo).port;
  listener.url = `http://127.0.0.1:${listener.port}/`;
  return listener;
}

let w: World;
let attacker: Listener;

beforeAll(async () => {
  [w, attacker] = await Promise.all([startWorld(), listen()]);
});
afterAll(async () => {
  await Promise.all([w.close(), attacker.close()]);
});

/** Every spelling of "the attacker's host" an admin key might try. */
const attacks = () => [
  attacker.url,
  `https://127.0.0.1:${attacker.port}/`,
  `http://smba.trafficmanager.net@127.0.0.1:${attacker.port}/`,
  `https://smba.trafficmanager.net@127.0.0.1:${attacker.port}/`,
  'https://evilbotframework.com/',
  'https://botframework.com.evil.example/',
  'http://smba.trafficmanager.net/amer/',
  'https://smba.trafficmanager.net:8443/amer/',
  // The configured origin (the sandbox) spelled another way is another origin.
  w.sb.env.MICROSOFT_BOT_SERVICE_URL.replace('127.0.0.1', 'localhost'),
  w.sb.env.MICROSOFT_BOT_SERVICE_URL.replace('http:', 'https:'),
];

const tenantBody = (overrides: Record<string, unknown> = {}) => ({
  platform: 'microsoft',
  externalId: platformIds('microsoft').tenant,
  name: 'Contoso',
  admins: [{ userExternalId: platformIds('microsoft').user }],
  ...overrides,
});

describe('the API refuses a bot.serviceUrl the token may not go to', () => {
  it('POST /v1/tenants: 400 naming bot.serviceUrl, nothing stored', async () => {
    for (const serviceUrl of attacks()) {
      const body = tenantBody({ bot: { serviceUrl } });
      const res = await w.t.call('POST', '/v1/tenants', body);
      expect([serviceUrl, res.status]).toEqual([serviceUrl, 400]);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: '/problems/validation-failed', detail: expect.stringContaining('bot.serviceUrl') });
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'bot.serviceUrl' })]);
      expect(await sql(w, `SELECT id FROM tenants WHERE external_id = $1`, [body.externalId])).toEqual([]);
    }
    expect(attacker.connections).toBe(0);
  });

  it('PATCH /v1/tenants/{id}: 400 naming bot.serviceUrl, the stored URL unchanged', async () => {
    const tenant = await makeTenant(w.t, tenantBody({ bot: { serviceUrl: w.sb.env.MICROSOFT_BOT_SERVICE_URL } }));
    for (const serviceUrl of attacks()) {
      const res = await w.t.call('PATCH', `/v1/tenants/${tenant.id}`, { name: 'Renamed', bot: { serviceUrl } });
      expect([serviceUrl, res.status]).toEqual([serviceUrl, 400]);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'bot.serviceUrl' })]);
    }
    const stored = await w.t.call('GET', `/v1/tenants/${tenant.id}`);
    expect(stored.body).toMatchObject({ name: 'Contoso', bot: { serviceUrl: w.sb.env.MICROSOFT_BOT_SERVICE_URL } });
    expect(attacker.connections).toBe(0);
  });

  it('accepts the Microsoft connector hosts and the configured origin', async () => {
    for (const serviceUrl of [
      'https://smba.trafficmanager.net/amer/',
      'https://europe.webchat.botframework.com/',
      'https://smba.infra.gov.teams.microsoft.us/',
      w.sb.env.MICROSOFT_BOT_SERVICE_URL,
    ]) {
      const res = await w.t.call('POST', '/v1/tenants', tenantBody({ bot: { serviceUrl } }));
      expect([serviceUrl, res.status]).toEqual([serviceUrl, 201]);
      expect(res.body.bot).toEqual({ serviceUrl });
    }
  });

  it('MICROSOFT_BOT_SERVICE_HOSTS replaces the default hosts', async () => {
    const own = await startWorld({ MICROSOFT_BOT_SERVICE_HOSTS: 'connector.contoso.example' }, { sb: w.sb });
    try {
      expect((await own.t.call('POST', '/v1/tenants', tenantBody({ bot: { serviceUrl: 'https://connector.contoso.example/teams/' } }))).status).toBe(201);
      expect((await own.t.call('POST', '/v1/tenants', tenantBody({ bot: { serviceUrl: 'https://smba.trafficmanager.net/amer/' } }))).status).toBe(400);
      // The configured URL stays allowed: it is the sender's own fallback.
      expect((await own.t.call('POST', '/v1/tenants', tenantBody({ bot: { serviceUrl: w.sb.env.MICROSOFT_BOT_SERVICE_URL } }))).status).toBe(201);
    } finally {
      await own.close();
    }
  });
});

describe('a Zoom tenant DMs only its own account', () => {
  it('bot.accountId must equal externalId, on create and on patch', async () => {
    const externalId = platformIds('zoom').tenant;
    const base = { platform: 'zoom', externalId, name: 'Fabrikam', admins: [] };
    const other = await w.t.call('POST', '/v1/tenants', { ...base, bot: { accountId: 'someoneElsesAccount' } });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ type: '/problems/validation-failed', detail: expect.stringContaining('bot.accountId') });
    expect(other.body.errors).toEqual([expect.objectContaining({ field: 'bot.accountId' })]);
    // Zoom account ids are case-sensitive: another case is another account.
    expect((await w.t.call('POST', '/v1/tenants', { ...base, bot: { accountId: externalId.toUpperCase() } })).status).toBe(400);
    expect(await sql(w, `SELECT id FROM tenants WHERE external_id = $1`, [externalId])).toEqual([]);

    const created = await w.t.call('POST', '/v1/tenants', { ...base, bot: { accountId: externalId } });
    expect(created.status).toBe(201);
    const patched = await w.t.call('PATCH', `/v1/tenants/${created.body.id}`, { bot: { accountId: 'someoneElsesAccount' } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual([expect.objectContaining({ field: 'bot.accountId' })]);
    expect((await w.t.call('GET', `/v1/tenants/${created.body.id}`)).body.bot).toEqual({ accountId: externalId });
    // Without an accountId the tenant's externalId is the account.
    expect((await w.t.call('PATCH', `/v1/tenants/${created.body.id}`, { bot: {} })).status).toBe(200);
  });
});

describe('the Teams sender checks again before every call', () => {
  it.each([
    ['the attacker host', () => attacker.url],
    ['user info in front of the attacker host', () => `http://smba.trafficmanager.net@127.0.0.1:${attacker.port}/`],
  ])('a row written by SQL with %s: the admin prompt fails and the listener receives nothing', async (_name, serviceUrl) => {
    const before = attacker.connections;
    const tenant = await tenantWithAdmins(w, 'microsoft', 2);
    // Behind the API's back: a row from before the rule, or an UPDATE by hand.
    await sql(w, `UPDATE tenants SET bot = jsonb_build_object('serviceUrl', $2::text) WHERE id = $1`, [tenant.id, serviceUrl()]);
    const user = await importGrant(w, 'microsoft', tenant.externalId);
    w.sb.control.failRefreshes('microsoft', { userExternalId: user.userExternalId }, microsoftError(53003), 10);
    const res = await w.t.call('POST', `/v1/connections/${user.id}/invalidate`, undefined, w.relayKey);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin' });

    const incident = await incidentWhen(w, res.body.incidentId, 'both admin prompts failed', (i) => i.prompts.length === 2 && i.prompts.every((p) => p.status === 'failed'));
    expect(incident.prompts.map((p: PromptView) => p.recipient).sort()).toEqual([...tenant.admins].sort());
    const rows = await sql<{ attempts: number; last_error: string }>(w, `SELECT attempts, last_error FROM prompts WHERE incident_id = $1`, [res.body.incidentId]);
    // Permanent at the first attempt: a refused URL is not retried.
    expect(rows).toEqual([
      { attempts: 1, last_error: expect.stringContaining(SERVICE_URL_NOT_ALLOWED) },
      { attempts: 1, last_error: expect.stringContaining(SERVICE_URL_NOT_ALLOWED) },
    ]);
    expect(attacker.connections - before).toBe(0);
    expect(attacker.requests).toHaveLength(0);
    for (const admin of tenant.admins) expect(w.sb.control.messages('microsoft', admin)).toHaveLength(0);
  });

  it('the sender itself: no request, not even the token fetch, and a failure that names the rule', async () => {
    const sender = new TeamsBotSender(loadConfig(w.sb.env));
    const tokenCalls = () => w.sb.control.tokenCalls('microsoft', { grantType: 'client_credentials' });
    const fetched = tokenCalls();
    const error = await sender.send({ serviceUrl: attacker.url }, { userExternalId: 'u', tenantExternalId: 't' }, { title: 't', lines: [] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderFailure);
    expect((error as ProviderFailure).signals).toMatchObject({
      platform: 'microsoft',
      operation: 'send',
      platformCode: SERVICE_URL_NOT_ALLOWED,
      description: expect.stringContaining('https'),
    });
    expect((error as ProviderFailure).signals.httpStatus).toBeUndefined();
    expect((error as ProviderFailure).signals.network).toBeUndefined();
    expect(tokenCalls()).toBe(fetched);
    expect(attacker.requests).toHaveLength(0);
  });
});

describe('redirects are never followed', () => {
  /** An allowed host that answers every call with a redirect to the attacker. */
  const redirector = (status: number) => listen((_req, res) => res.writeHead(status, { location: `${attacker.url}v3/conversations` }).end());

  it.each([301, 302, 303, 307, 308])('the upstream client returns a %i as it is', async (status) => {
    const hop = await redirector(status);
    try {
      const result = await upstream('microsoft', 'send', `${hop.url}v3/conversations`, { method: 'POST', headers: { authorization: 'Bearer bot-token' }, body: '{}' });
      expect(result.status).toBe(status);
      expect(result.headers.get('location')).toContain(attacker.url);
      expect(hop.requests).toHaveLength(1);
      expect(attacker.requests).toHaveLength(0);
    } finally {
      await hop.close();
    }
  });

  it('Teams: a 307 from the configured service URL fails the send and the token stays put', async () => {
    const hop = await redirector(307);
    try {
      const sender = new TeamsBotSender(loadConfig({ ...w.sb.env, MICROSOFT_BOT_SERVICE_URL: hop.url }));
      const error = await sender.send({ serviceUrl: hop.url }, { userExternalId: 'u', tenantExternalId: 't' }, { title: 't', lines: [] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as ProviderFailure).signals).toMatchObject({ platform: 'microsoft', httpStatus: 307 });
      expect(hop.requests.map((r) => r.headers.authorization)).toEqual([expect.stringMatching(/^Bearer /)]);
      expect(attacker.requests).toHaveLength(0);
    } finally {
      await hop.close();
    }
  });

  it('Slack: a 302 from the API URL fails the send and the bot token stays put', async () => {
    const hop = await redirector(302);
    try {
      const sender = new SlackBotSender(loadConfig({ ...w.sb.env, SLACK_API_URL: `${hop.url}api/` }));
      const error = await sender.send({ botToken: new Secret('xoxb-not-for-you') }, { userExternalId: 'U1', tenantExternalId: 'T1' }, { title: 't', lines: [] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as ProviderFailure).signals).toMatchObject({ platform: 'slack', httpStatus: 302 });
      expect(hop.requests).toHaveLength(1);
      expect(attacker.requests).toHaveLength(0);
    } finally {
      await hop.close();
    }
  });
});
