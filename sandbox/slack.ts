/** Slack Web API: OAuth v2 with token rotation, conversations.open, chat.postMessage and friends. */
import { ServerResponse } from 'node:http';
import { slackError } from './errors';
import { basicAuth, bearer, isRecord, Req, sendJson } from './http';
import { extractLinks } from './links';
import { authorize, redeemCode } from './oauth';
import { messagePreamble, PlatformContext, PlatformModule, tokenPreamble } from './platform';
import { PlatformState, randomDigits } from './state';
import { MintedGrant, SandboxUser } from './types';

// Prefixes are assembled so no token-looking literal sits in the source.
const XOX = 'xox';
const USER_PREFIX = () => `${XOX}e.${XOX}p-1-${randomDigits(11)}-`;
const BOT_PREFIX = () => `${XOX}e.${XOX}b-1-${randomDigits(11)}-`;
const REFRESH_PREFIX = () => `${XOX}e-1-`;

export function newSlackIds(): { clientId: string; clientSecret: string; appId: string } {
  return { clientId: `${randomDigits(10)}.${randomDigits(12)}`, clientSecret: randomDigits(32), appId: `A0${randomDigits(9)}` };
}

function send(res: ServerResponse, body: Record<string, unknown>): void {
  sendJson(res, 200, { ok: true, ...body });
}

function fail(res: ServerResponse, code: string): void {
  const e = slackError(code);
  sendJson(res, e.status, e.body, e.headers);
}

/** Slack's own reading of the JSON `blocks` argument, which form posts carry as a string. */
function blocksOf(form: Record<string, string>, json: unknown): unknown {
  if (isRecord(json) && json.blocks !== undefined) return json.blocks;
  if (!form.blocks) return undefined;
  try {
    return JSON.parse(form.blocks);
  } catch {
    return undefined;
  }
}

export function createSlack(ctx: PlatformContext): PlatformModule {
  const { state } = ctx;
  const creds = ctx.credentials.slack;
  const channels = new Map<string, string>();
  const team = (id: string): { id: string; name: string } => ({ id, name: `Sandbox ${id}` });

  function userGrant(user: SandboxUser, scopes: string[]): { access: string; refresh: string } {
    return { access: state.issueAccess(user, scopes, USER_PREFIX()), refresh: state.issueRefresh(user, scopes, REFRESH_PREFIX()) };
  }

  async function oauthAccess(req: Req, res: ServerResponse): Promise<void> {
    const grant = req.form.grant_type ?? 'authorization_code';
    const presented = grant === 'refresh_token' ? state.refreshTokens.get(req.form.refresh_token ?? '') : undefined;
    const codeUser = grant === 'authorization_code' ? state.codes.get(req.form.code ?? '')?.user : undefined;
    if (await tokenPreamble(state, res, grant, presented?.user ?? codeUser)) return;
    const basic = basicAuth(req);
    const id = basic?.id ?? req.form.client_id ?? '';
    const secret = basic?.secret ?? req.form.client_secret ?? '';
    if (id !== creds.clientId) return fail(res, 'invalid_client_id');
    if (secret !== creds.clientSecret) return fail(res, 'bad_client_secret');
    const common = { app_id: creds.appId, enterprise: null, is_enterprise_install: false };
    if (grant === 'authorization_code') {
      const outcome = redeemCode(state, req.form);
      if (!outcome.ok) return fail(res, outcome.problem === 'redirect_mismatch' ? 'bad_redirect_uri' : 'invalid_code');
      const { user, scopes, botScopes } = outcome.code;
      const pair = userGrant(user, scopes);
      const body: Record<string, unknown> = {
        ...common,
        authed_user: {
          id: user.userExternalId,
          scope: scopes.join(','),
          access_token: pair.access,
          token_type: 'user',
          refresh_token: pair.refresh,
          expires_in: state.accessSeconds,
        },
        team: team(user.tenantExternalId),
      };
      if (botScopes && botScopes.length > 0) {
        Object.assign(body, {
          scope: botScopes.join(','),
          token_type: 'bot',
          access_token: state.issueBot(user.tenantExternalId, BOT_PREFIX()),
          bot_user_id: `U0BOT${user.tenantExternalId.slice(1)}`,
          expires_in: state.accessSeconds,
        });
      }
      return send(res, body);
    }
    if (grant === 'refresh_token') {
      if (!presented || presented.expiresAt < Date.now()) return fail(res, 'invalid_refresh_token');
      if (presented.supersededAt !== undefined) {
        // Each Slack refresh token works once; a second use is the reuse tests look for.
        state.recordReuse(presented.user);
        return fail(res, 'invalid_refresh_token');
      }
      presented.supersededAt = Date.now();
      const pair = userGrant(presented.user, presented.scopes);
      // Slack shows no refresh answer of its own: the token rotation guide
      // (https://docs.slack.dev/authentication/using-token-rotation) says it is an oauth.v2.access
      // answer with `expires_in` and `refresh_token`, in the shape of its rotated-token example
      // (ok, access_token, expires_in, refresh_token, token_type, scope, bot_user_id, app_id, team,
      // enterprise); a user token's has no `bot_user_id`.
      return send(res, {
        access_token: pair.access,
        expires_in: state.accessSeconds,
        refresh_token: pair.refresh,
        token_type: 'user',
        scope: presented.scopes.join(','),
        app_id: creds.appId,
        team: team(presented.user.tenantExternalId),
        enterprise: null,
      });
    }
    fail(res, 'invalid_grant_type');
  }

  /** Slack reads the token from the Authorization header or a `token` argument. */
  function caller(req: Req, res: ServerResponse): { user?: SandboxUser; teamId?: string; token: string } | undefined {
    const token = bearer(req) ?? req.form.token;
    if (!token) return void fail(res, 'not_authed');
    const access = state.accessTokens.get(token);
    const bot = state.botTokens.get(token);
    if (!access && !bot) return void fail(res, state.revoked.some((r) => r.token === token) ? 'token_revoked' : 'invalid_auth');
    if ((access?.expiresAt ?? bot?.expiresAt ?? 0) < Date.now()) return void fail(res, 'token_expired');
    return { user: access?.user, teamId: access?.user.tenantExternalId ?? bot?.tenantExternalId, token };
  }

  const methods: Record<string, (req: Req, res: ServerResponse) => Promise<void> | void> = {
    'oauth.v2.access': oauthAccess,
    'auth.test': (req, res) => {
      const who = caller(req, res);
      if (!who) return;
      const teamId = who.teamId ?? 'T0SANDBOX';
      send(res, {
        url: `https://sandbox-${teamId.toLowerCase()}.slack.com/`,
        team: `Sandbox ${teamId}`,
        user: who.user?.displayName ?? 'sandbox-bot',
        team_id: teamId,
        user_id: who.user?.userExternalId ?? `U0BOT${teamId.slice(1)}`,
        ...(who.user ? {} : { bot_id: `B0${teamId.slice(1)}` }),
        is_enterprise_install: false,
      });
    },
    'users.info': (req, res) => {
      if (!caller(req, res)) return;
      const user = state.users.get(req.form.user ?? '');
      if (!user) return fail(res, 'user_not_found');
      const profile = { email: user.email, real_name: user.displayName, display_name: user.displayName };
      send(res, {
        user: {
          id: user.userExternalId,
          team_id: user.tenantExternalId,
          name: user.email.split('@')[0],
          deleted: false,
          real_name: user.displayName,
          is_bot: false,
          is_admin: false,
          profile,
        },
      });
    },
    'conversations.open': (req, res) => {
      if (!caller(req, res)) return;
      const users = (req.form.users ?? '').split(',').filter((u) => u.length > 0);
      if (users.length !== 1) return fail(res, users.length === 0 ? 'users_list_not_supplied' : 'not_enough_users');
      const channel = `D0${users[0].replace(/^U/, '')}`;
      channels.set(channel, users[0]);
      send(res, { channel: { id: channel } });
    },
    'chat.postMessage': async (req, res) => {
      const who = caller(req, res);
      if (!who) return;
      const channel = req.form.channel ?? '';
      // Posting straight to a user id lands in the app's DM with that user, as on Slack.
      const recipient = channels.get(channel) ?? (/^[UW]/.test(channel) ? channel : undefined);
      if (!recipient) return fail(res, 'channel_not_found');
      if (await messagePreamble(state, res)) return;
      const blocks = blocksOf(req.form, req.json);
      const text = req.form.text ?? '';
      const ts = `${Math.floor(Date.now() / 1000)}.${randomDigits(6)}`;
      state.messages.push({ platform: 'slack', recipient, text, links: extractLinks([text, blocks]), raw: { ...req.form, blocks }, at: new Date() });
      send(res, { channel, ts, message: { type: 'message', text, ts, blocks, bot_id: `B0${(who.teamId ?? '').slice(1)}` } });
    },
    'auth.revoke': (req, res) => {
      const who = caller(req, res);
      if (!who) return;
      if (req.form.test !== 'true' && req.form.test !== '1') revokeGrant(state, who.token, who.user);
      send(res, { revoked: true });
    },
  };

  const handler = async (req: Req, res: ServerResponse): Promise<boolean> => {
    if (req.path === '/oauth/v2/authorize' && req.method === 'GET') {
      authorize(state, req, res, { clientId: creds.clientId, requirePkce: false, denyDescription: 'The user denied the request' });
      return true;
    }
    const method = req.path.startsWith('/api/') ? methods[req.path.slice(5)] : undefined;
    if (!method) return false;
    // Slack accepts query arguments as well as bodies.
    for (const [k, v] of req.query) req.form[k] ??= v;
    await method(req, res);
    return true;
  };

  return { handler, mint: (user, scopes) => mintSlack(state, user, scopes) };
}

/** Revoking a user token ends the whole grant, refresh tokens included. */
function revokeGrant(state: PlatformState, token: string, user: SandboxUser | undefined): void {
  state.accessTokens.delete(token);
  state.botTokens.delete(token);
  state.revoked.push({ token, userExternalId: user?.userExternalId, at: new Date() });
  if (!user) return;
  for (const [refresh, record] of state.refreshTokens) if (record.user === user) state.refreshTokens.delete(refresh);
}

function mintSlack(state: PlatformState, user: SandboxUser, scopes: string[]): MintedGrant {
  return {
    accessToken: state.issueAccess(user, scopes, USER_PREFIX()),
    refreshToken: state.issueRefresh(user, scopes, REFRESH_PREFIX()),
    expiresIn: state.accessSeconds,
  };
}

/** A workspace bot token for the tenant's bot settings (SPEC §5 `bot.botToken`). */
export function mintSlackBotToken(state: PlatformState, teamId: string): string {
  return state.issueBot(teamId, BOT_PREFIX());
}
