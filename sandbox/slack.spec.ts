import { ErrorCode, WebClient } from '@slack/web-api';
import { Sandbox, slackError, startSandbox } from './index';

const REDIRECT = 'http://localhost:3000/oauth/slack/callback';

describe('sandbox: Slack through @slack/web-api', () => {
  let sandbox: Sandbox;
  let slack: WebClient;

  beforeAll(async () => {
    sandbox = await startSandbox();
    slack = new WebClient(undefined, { slackApiUrl: sandbox.env.SLACK_API_URL, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    sandbox.control.reset();
    sandbox.control.addUser('slack', { tenantExternalId: 'T0SBX', userExternalId: 'U0ADA', email: 'ada@example.test', displayName: 'Ada' });
    sandbox.control.signIn('slack', 'U0ADA');
  });

  const client = (): { client_id: string; client_secret: string } => ({
    client_id: sandbox.env.SLACK_CLIENT_ID,
    client_secret: sandbox.env.SLACK_CLIENT_SECRET,
  });

  async function installCode(): Promise<string> {
    const url = new URL(sandbox.env.SLACK_AUTHORIZE_URL);
    url.search = new URLSearchParams({ client_id: sandbox.env.SLACK_CLIENT_ID, user_scope: 'chat:write,users:read', redirect_uri: REDIRECT, state: 's1' }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const back = new URL(response.headers.get('location') ?? '');
    expect(back.searchParams.get('state')).toBe('s1');
    return back.searchParams.get('code') ?? '';
  }

  async function slackErrorOf(promise: Promise<unknown>): Promise<string | undefined> {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    const data = (error as { data?: { error?: string } } | undefined)?.data;
    return data?.error;
  }

  it('exchanges a code, rotates refresh tokens and flags a reused one', async () => {
    const exchanged = await slack.oauth.v2.access({ ...client(), code: await installCode(), redirect_uri: REDIRECT });
    expect(exchanged.authed_user?.id).toBe('U0ADA');
    expect(exchanged.team?.id).toBe('T0SBX');
    expect(exchanged.authed_user?.token_type).toBe('user');
    const first = exchanged.authed_user?.refresh_token ?? '';

    const rotated = await slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: first });
    expect(rotated.access_token).toMatch(/^xoxe\.xoxp-1-/);
    expect(rotated.refresh_token).not.toBe(first);
    expect(rotated.token_type).toBe('user');
    expect(rotated.expires_in).toBe(43_200);

    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: first }))).toBe('invalid_refresh_token');
    expect(sandbox.control.reuseEvents('slack')).toEqual([expect.objectContaining({ userExternalId: 'U0ADA', tenantExternalId: 'T0SBX' })]);
    expect(sandbox.control.tokenCalls('slack', { userExternalId: 'U0ADA', grantType: 'refresh_token' })).toBe(2);

    const me = await new WebClient(rotated.access_token, { slackApiUrl: sandbox.env.SLACK_API_URL }).auth.test();
    expect(me.user_id).toBe('U0ADA');
  });

  it('validates client credentials, codes and redirect_uri like Slack', async () => {
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), client_secret: 'nope', code: await installCode() }))).toBe('bad_client_secret');
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), client_id: '1.2', code: 'x' }))).toBe('invalid_client_id');
    const code = await installCode();
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), code, redirect_uri: 'http://elsewhere/cb' }))).toBe('bad_redirect_uri');
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), code, redirect_uri: REDIRECT }))).toBe('invalid_code');
  });

  it('plays injected failures, including ratelimited as HTTP 429 with Retry-After', async () => {
    const grant = sandbox.control.mintGrant('slack', { tenantExternalId: 'T0SBX', userExternalId: 'U0ADA' });
    sandbox.control.failRefreshes('slack', { userExternalId: 'U0ADA' }, slackError('token_revoked'), 1);
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: grant.refreshToken }))).toBe('token_revoked');

    sandbox.control.failRefreshes('slack', {}, slackError('ratelimited', 7), 1);
    const limited: unknown = await slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: grant.refreshToken }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });

    // The armed failures never consumed the refresh token.
    await expect(slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: grant.refreshToken })).resolves.toMatchObject({ ok: true });
  });

  it('delivers bot DMs with their links, looks users up and revokes', async () => {
    const bot = new WebClient(sandbox.control.slackBotToken('T0SBX'), { slackApiUrl: sandbox.env.SLACK_API_URL, retryConfig: { retries: 0 } });
    const opened = await bot.conversations.open({ users: 'U0ADA' });
    const channel = opened.channel?.id ?? '';
    const link = 'http://localhost:3000/connect/abc123';
    await bot.chat.postMessage({
      channel,
      text: 'Your Slack connection needs you',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Re-connect' }, url: link }] }],
    });
    expect(sandbox.control.messages('slack', 'U0ADA')).toEqual([expect.objectContaining({ text: 'Your Slack connection needs you', links: [link] })]);

    const info = await bot.users.info({ user: 'U0ADA' });
    expect(info.user?.profile?.email).toBe('ada@example.test');

    const grant = sandbox.control.mintGrant('slack', { tenantExternalId: 'T0SBX', userExternalId: 'U0ADA' });
    const user = new WebClient(grant.accessToken, { slackApiUrl: sandbox.env.SLACK_API_URL, retryConfig: { retries: 0 } });
    await expect(user.auth.revoke()).resolves.toMatchObject({ revoked: true });
    expect(sandbox.control.revokedTokens('slack')).toHaveLength(1);
    expect(await slackErrorOf(user.auth.test())).toBe('token_revoked');
    expect(await slackErrorOf(slack.oauth.v2.access({ ...client(), grant_type: 'refresh_token', refresh_token: grant.refreshToken }))).toBe('invalid_refresh_token');
  });

  it('makes bot sends fail on demand', async () => {
    const bot = new WebClient(sandbox.control.slackBotToken('T0SBX'), { slackApiUrl: sandbox.env.SLACK_API_URL, retryConfig: { retries: 0 } });
    sandbox.control.failMessages('slack', slackError('internal_error'), 1);
    expect(await slackErrorOf(bot.chat.postMessage({ channel: 'U0ADA', text: 'hi' }))).toBe('internal_error');
    await expect(bot.chat.postMessage({ channel: 'U0ADA', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(sandbox.control.messages('slack', 'u0ada')).toHaveLength(1);
  });
});
