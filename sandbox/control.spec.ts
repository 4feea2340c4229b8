import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { microsoftError, Sandbox, startSandbox } from './index';

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('sandbox: control API, Teams connector and throughput', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.control.reset());

  const msToken = (): string => `${sandbox.env.MICROSOFT_AUTHORITY_HOST}/organizations/oauth2/v2.0/token`;
  const refreshForm = (refreshToken: string): Record<string, string> => ({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: sandbox.env.MICROSOFT_CLIENT_ID,
    client_secret: sandbox.env.MICROSOFT_CLIENT_SECRET,
  });
  const refresh = (refreshToken: string): Promise<Response> => fetch(msToken(), { method: 'POST', body: new URLSearchParams(refreshForm(refreshToken)) });

  it('arms failures over HTTP: exact status and body, then delay, then a hang that close() cuts', async () => {
    const oid = randomUUID();
    const grant = sandbox.control.mintGrant('microsoft', { tenantExternalId: randomUUID(), userExternalId: oid });
    const injected = microsoftError(50173);
    const armed = await postJson(`${sandbox.urls.slack}/_sandbox/microsoft/refresh-failures`, { selector: { userExternalId: oid }, failure: injected, times: 1 });
    expect(armed.status).toBe(200);
    const failed = await refresh(grant.refreshToken);
    expect(failed.status).toBe(400);
    expect(await failed.json()).toEqual(injected.body);

    sandbox.control.failRefreshes('microsoft', { userExternalId: oid }, { delayMs: 150 }, 1);
    const started = Date.now();
    expect((await refresh(grant.refreshToken)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const counted = await fetch(`${sandbox.urls.microsoft}/_sandbox/microsoft/token-calls?userExternalId=${oid}&grantType=refresh_token`);
    expect(await counted.json()).toEqual({ count: 2 });

    // A hung request stays open until the sandbox closes, which cuts it.
    const doomed = await startSandbox();
    doomed.control.failRefreshes('microsoft', {}, { hang: true });
    const pending = fetch(`${doomed.env.MICROSOFT_AUTHORITY_HOST}/organizations/oauth2/v2.0/token`, { method: 'POST', body: 'grant_type=refresh_token' }).then(
      () => 'answered',
      () => 'cut',
    );
    const early = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('pending'), 100))]);
    expect(early).toBe('pending');
    await doomed.close();
    await expect(pending).resolves.toBe('cut');
  });

  it('sends a Teams proactive message with a bot token from botframework.com', async () => {
    const { env, control } = sandbox;
    const tokenResponse = await fetch(`${env.MICROSOFT_AUTHORITY_HOST}/botframework.com/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: env.MICROSOFT_BOT_APP_ID,
        client_secret: env.MICROSOFT_BOT_APP_SECRET,
        scope: 'https://api.botframework.com/.default',
      }),
    });
    const { access_token: botToken } = (await tokenResponse.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${botToken}` };
    const oid = randomUUID();
    const tid = randomUUID();
    const conversation = await postJson(
      `${env.MICROSOFT_BOT_SERVICE_URL}v3/conversations`,
      { bot: { id: `28:${env.MICROSOFT_BOT_APP_ID}` }, isGroup: false, members: [{ id: oid }], channelData: { tenant: { id: tid } } },
      auth,
    );
    expect(conversation.status).toBe(201);
    const { id } = (await conversation.json()) as { id: string };
    const card = {
      type: 'AdaptiveCard',
      version: '1.4',
      body: [{ type: 'TextBlock', text: 'Teams needs you' }],
      actions: [{ type: 'Action.OpenUrl', title: 'Re-connect', url: 'http://localhost:3000/connect/m1' }],
    };
    const sent = await postJson(
      `${env.MICROSOFT_BOT_SERVICE_URL}v3/conversations/${encodeURIComponent(id)}/activities`,
      { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] },
      auth,
    );
    expect(sent.status).toBe(201);
    expect(control.messages('microsoft', oid)).toEqual([expect.objectContaining({ text: 'Teams needs you', links: ['http://localhost:3000/connect/m1'] })]);
    const unauthorized = await postJson(`${env.MICROSOFT_BOT_SERVICE_URL}v3/conversations`, { members: [{ id: oid }] });
    expect(unauthorized.status).toBe(401);
  });

  // Throughput is a benchmark's business (bench:sweep prints the sandbox's ceiling beside the
  // service); here only behaviour: many concurrent refreshes all succeed, each after the latency.
  it('answers many concurrent refreshes, each after the set latency', async () => {
    sandbox.control.setLatency('microsoft', 50);
    const grants = Array.from({ length: 1000 }, () => sandbox.control.mintGrant('microsoft', { tenantExternalId: 't', userExternalId: randomUUID() }));
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const url = new URL(msToken());
    const one = (refreshToken: string): Promise<{ status: number; ms: number }> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
        });
        req.on('error', reject);
        req.end(new URLSearchParams(refreshForm(refreshToken)).toString());
      });
    const answers = await Promise.all(grants.map((g) => one(g.refreshToken)));
    agent.destroy();
    sandbox.control.setLatency('microsoft', 0);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(Math.min(...answers.map((a) => a.ms))).toBeGreaterThanOrEqual(49);
    expect(sandbox.control.reuseEvents('microsoft')).toEqual([]);
  });

  it('mints grants in bulk, each with its own refresh token', () => {
    const minted = Array.from({ length: 10_000 }, (_, i) => sandbox.control.mintGrant('zoom', { tenantExternalId: 'acct', userExternalId: `u${i}` }));
    expect(new Set(minted.map((g) => g.refreshToken)).size).toBe(10_000);
    expect(new Set(minted.map((g) => g.accessToken)).size).toBe(10_000);
  });
});
