import { createHash, randomBytes } from 'node:crypto';
import { Sandbox, startSandbox } from './index';

const REDIRECT = 'http://localhost:3000/oauth/callback';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function codeFrom(authorizeUrl: string, params: Record<string, string>): Promise<string> {
  const url = new URL(authorizeUrl);
  url.search = new URLSearchParams(params).toString();
  const response = await fetch(url, { redirect: 'manual' });
  return new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

async function post(
  url: string,
  init: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('sandbox: Webex and Zoom over fetch', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.control.reset());

  it('Webex: code + PKCE, people/me, refresh returns the same refresh token, expiry, bot message', async () => {
    const { env, control } = sandbox;
    control.addUser('webex', { tenantExternalId: 'org-1', userExternalId: 'person-1', email: 'ada@example.test' });
    control.signIn('webex', 'person-1');
    const { verifier, challenge } = pkce();
    const code = await codeFrom(`${env.WEBEX_API_URL}/authorize`, {
      client_id: env.WEBEX_CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'spark:people_read',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const client = { client_id: env.WEBEX_CLIENT_ID, client_secret: env.WEBEX_CLIENT_SECRET };
    const tokens = await post(`${env.WEBEX_API_URL}/access_token`, {
      form: { ...client, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ expires_in: 1_209_600, refresh_token_expires_in: 7_776_000 });

    const me = await fetch(`${env.WEBEX_API_URL}/people/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(await me.json()).toMatchObject({ id: 'person-1', orgId: 'org-1', emails: ['ada@example.test'] });

    const refreshed = await post(`${env.WEBEX_API_URL}/access_token`, { form: { ...client, grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) } });
    expect(refreshed.body.refresh_token).toBe(tokens.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(tokens.body.access_token);

    control.setTokenLifetimes('webex', { refreshTokenSeconds: -1 });
    const old = control.mintGrant('webex', { tenantExternalId: 'org-1', userExternalId: 'person-1' });
    const dead = await post(`${env.WEBEX_API_URL}/access_token`, { form: { ...client, grant_type: 'refresh_token', refresh_token: old.refreshToken } });
    expect(dead).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'The refresh token provided is expired, revoked, malformed, or invalid.' } });

    const sent = await post(`${env.WEBEX_API_URL}/messages`, {
      headers: { authorization: `Bearer ${env.WEBEX_BOT_TOKEN}` },
      json: { toPersonEmail: 'ada@example.test', markdown: 'Please [re-connect](http://localhost:3000/connect/t1)' },
    });
    expect(sent.status).toBe(200);
    expect(control.messages('webex', 'ada@example.test')).toEqual([expect.objectContaining({ links: ['http://localhost:3000/connect/t1'] })]);
  });

  it('Zoom: Basic auth, rotation with reuse detection, chatbot token and message, revoke', async () => {
    const { env, control } = sandbox;
    control.addUser('zoom', { tenantExternalId: 'acct-1', userExternalId: 'KdYKjnimT4KPd8FFgQt9FQ' });
    control.signIn('zoom', 'KdYKjnimT4KPd8FFgQt9FQ');
    const basic = { authorization: `Basic ${Buffer.from(`${env.ZOOM_CLIENT_ID}:${env.ZOOM_CLIENT_SECRET}`).toString('base64')}` };
    const code = await codeFrom(`${env.ZOOM_OAUTH_URL}/oauth/authorize`, { response_type: 'code', client_id: env.ZOOM_CLIENT_ID, redirect_uri: REDIRECT });
    const noAuth = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT } });
    expect(noAuth).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const code2 = await codeFrom(`${env.ZOOM_OAUTH_URL}/oauth/authorize`, { response_type: 'code', client_id: env.ZOOM_CLIENT_ID, redirect_uri: REDIRECT });
    const tokens = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { headers: basic, form: { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT } });
    expect(tokens.body).toMatchObject({ token_type: 'bearer', expires_in: 3599 });

    const me = await fetch(`${env.ZOOM_API_URL}/users/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(await me.json()).toMatchObject({ id: 'KdYKjnimT4KPd8FFgQt9FQ', account_id: 'acct-1' });

    const first = String(tokens.body.refresh_token);
    const rotated = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { headers: basic, form: { grant_type: 'refresh_token', refresh_token: first } });
    expect(rotated.body.refresh_token).not.toBe(first);
    const reused = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { headers: basic, form: { grant_type: 'refresh_token', refresh_token: first } });
    expect(reused).toEqual({ status: 400, body: { reason: 'Invalid Token!', error: 'invalid_grant' } });
    expect(control.reuseEvents('zoom')).toHaveLength(1);

    const bot = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { headers: basic, form: { grant_type: 'client_credentials' } });
    const message = await post(`${env.ZOOM_API_URL}/im/chat/messages`, {
      headers: { authorization: `Bearer ${String(bot.body.access_token)}` },
      json: {
        robot_jid: env.ZOOM_BOT_JID,
        to_jid: 'kdykjnimt4kpd8ffgqt9fq@xmpp.zoom.us',
        account_id: 'acct-1',
        content: { head: { text: 'Zoom needs you' }, body: [{ type: 'message', text: 'Re-connect: http://localhost:3000/connect/z1' }] },
      },
    });
    expect(message.status).toBe(200);
    expect(control.messages('zoom', 'KdYKjnimT4KPd8FFgQt9FQ')).toEqual([expect.objectContaining({ links: ['http://localhost:3000/connect/z1'] })]);

    const revoked = await fetch(`${env.ZOOM_OAUTH_URL}/oauth/revoke?token=${String(rotated.body.access_token)}`, { method: 'POST', headers: basic });
    expect(await revoked.json()).toEqual({ status: 'success' });
    const after = await post(`${env.ZOOM_OAUTH_URL}/oauth/token`, { headers: basic, form: { grant_type: 'refresh_token', refresh_token: String(rotated.body.refresh_token) } });
    expect(after.body.error).toBe('invalid_grant');
  });
});
