/** Zoom: OAuth (Basic auth, rotating refresh tokens), chatbot client_credentials, users/me, chat. */
import { ServerResponse } from 'node:http';
import { zoomApiError, zoomOauthError } from './errors';
import { basicAuth, bearer, isRecord, Req, sendJson, str } from './http';
import { extractLinks } from './links';
import { authorize, redeemCode } from './oauth';
import { messagePreamble, PlatformContext, PlatformModule, tokenPreamble } from './platform';
import { PlatformState, randomToken } from './state';
import { MintedGrant, SandboxUser } from './types';

// Zoom tokens are JWTs starting with this header; opaque past it here.
const TOKEN_PREFIX = 'eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIiwidiI6IjIuMCIsImtpZCI6InNieCJ9.';

export function newZoomIds(): { clientId: string; clientSecret: string; botJid: string } {
  return { clientId: randomToken(16), clientSecret: randomToken(24), botJid: `v1${randomToken(16).toLowerCase()}@xmpp.zoom.us` };
}

/** Plain text of a chatbot message: head text, then every body item's text. */
function chatText(content: unknown): string {
  if (!isRecord(content)) return '';
  const parts: string[] = [];
  if (isRecord(content.head) && typeof content.head.text === 'string') parts.push(content.head.text);
  if (Array.isArray(content.body)) for (const item of content.body) if (isRecord(item) && typeof item.text === 'string') parts.push(item.text);
  return parts.join('\n');
}

export function createZoom(ctx: PlatformContext): PlatformModule {
  const { state } = ctx;
  const creds = ctx.credentials.zoom;
  const oauthFail = (res: ServerResponse, error: string, reason: string): void => {
    const e = zoomOauthError(error, reason);
    sendJson(res, e.status, e.body);
  };
  const invalidToken = (res: ServerResponse): void => {
    const e = zoomApiError(401, 124, 'Invalid access token.');
    sendJson(res, e.status, e.body);
  };

  function userTokens(user: SandboxUser, scopes: string[]): Record<string, unknown> {
    return {
      access_token: state.issueAccess(user, scopes, TOKEN_PREFIX),
      token_type: 'bearer',
      refresh_token: state.issueRefresh(user, scopes, TOKEN_PREFIX),
      expires_in: state.accessSeconds,
      scope: scopes.join(' '),
      api_url: ctx.origin(),
    };
  }

  async function token(req: Req, res: ServerResponse): Promise<void> {
    // Zoom documents the grant parameters in the query string; bodies work too.
    for (const [k, v] of req.query) req.form[k] ??= v;
    const grant = req.form.grant_type ?? '';
    const presented = grant === 'refresh_token' ? state.refreshTokens.get(req.form.refresh_token ?? '') : undefined;
    const codeUser = grant === 'authorization_code' ? state.codes.get(req.form.code ?? '')?.user : undefined;
    if (await tokenPreamble(state, res, grant, presented?.user ?? codeUser)) return;
    const basic = basicAuth(req);
    if (!basic || basic.id !== creds.clientId || basic.secret !== creds.clientSecret) {
      return oauthFail(res, 'invalid_client', 'Invalid client_id or client_secret');
    }
    if (grant === 'client_credentials') {
      const access = state.issueBot(undefined, TOKEN_PREFIX);
      return sendJson(res, 200, { access_token: access, token_type: 'bearer', expires_in: state.accessSeconds, scope: 'imchat:bot', api_url: ctx.origin() });
    }
    if (grant === 'authorization_code') {
      const outcome = redeemCode(state, req.form);
      if (outcome.ok) return sendJson(res, 200, userTokens(outcome.code.user, outcome.code.scopes));
      if (outcome.problem === 'redirect_mismatch') return oauthFail(res, 'invalid_request', 'Redirect URI mismatch.');
      return oauthFail(res, 'invalid_grant', 'Invalid authorization code');
    }
    if (grant === 'refresh_token') {
      if (!presented || presented.expiresAt < Date.now()) return oauthFail(res, 'invalid_grant', 'Invalid Token!');
      if (presented.supersededAt !== undefined) {
        // Zoom rotates: the old refresh token died when the new one was issued.
        state.recordReuse(presented.user);
        return oauthFail(res, 'invalid_grant', 'Invalid Token!');
      }
      presented.supersededAt = Date.now();
      return sendJson(res, 200, userTokens(presented.user, presented.scopes));
    }
    oauthFail(res, 'unsupported_grant_type', 'Unsupported grant type');
  }

  function revoke(req: Req, res: ServerResponse): void {
    const basic = basicAuth(req);
    if (!basic || basic.id !== creds.clientId || basic.secret !== creds.clientSecret) {
      return oauthFail(res, 'invalid_client', 'Invalid client_id or client_secret');
    }
    const tokenValue = req.query.get('token') ?? req.form.token ?? '';
    const record = state.accessTokens.get(tokenValue) ?? state.refreshTokens.get(tokenValue);
    if (!record) return oauthFail(res, 'invalid_request', 'Invalid Token!');
    // Revoking either token ends the user's authorization of the app.
    for (const [t, r] of state.accessTokens) if (r.user === record.user) state.accessTokens.delete(t);
    for (const [t, r] of state.refreshTokens) if (r.user === record.user) state.refreshTokens.delete(t);
    state.revoked.push({ token: tokenValue, userExternalId: record.user.userExternalId, at: new Date() });
    sendJson(res, 200, { status: 'success' });
  }

  async function chat(req: Req, res: ServerResponse): Promise<void> {
    if (!state.liveBot(bearer(req))) return invalidToken(res);
    const body = isRecord(req.json) ? req.json : {};
    const toJid = str(body.to_jid);
    if (str(body.robot_jid) !== creds.botJid || !toJid || !str(body.account_id) || !isRecord(body.content)) {
      const e = zoomApiError(400, 300, 'Invalid robot_jid, to_jid, account_id or content.');
      return sendJson(res, e.status, e.body);
    }
    if (await messagePreamble(state, res)) return;
    const recipient = toJid.split('@')[0].toLowerCase();
    state.messages.push({ platform: 'zoom', recipient, text: chatText(body.content), links: extractLinks(body.content), raw: body, at: new Date() });
    sendJson(res, 200, { message_id: randomToken(16), robot_jid: creds.botJid, sent_time: new Date().toISOString(), to_jid: toJid, user_jid: body.user_jid ?? toJid });
  }

  function usersMe(req: Req, res: ServerResponse): void {
    const record = state.liveAccess(bearer(req));
    if (!record) return invalidToken(res);
    const { user } = record;
    const [first, ...rest] = user.displayName.split(' ');
    sendJson(res, 200, {
      id: user.userExternalId,
      first_name: first,
      last_name: rest.join(' '),
      display_name: user.displayName,
      email: user.email,
      type: 1,
      role_name: 'Member',
      account_id: user.tenantExternalId,
      status: 'active',
    });
  }

  const handler = async (req: Req, res: ServerResponse): Promise<boolean> => {
    if (req.path === '/oauth/authorize' && req.method === 'GET') {
      authorize(state, req, res, { clientId: creds.clientId, requirePkce: false, denyDescription: 'The user denied the request.' });
    } else if (req.path === '/oauth/token' && req.method === 'POST') {
      await token(req, res);
    } else if (req.path === '/oauth/revoke' && req.method === 'POST') {
      revoke(req, res);
    } else if (req.path === '/v2/users/me' && req.method === 'GET') {
      usersMe(req, res);
    } else if (req.path === '/v2/im/chat/messages' && req.method === 'POST') {
      await chat(req, res);
    } else return false;
    return true;
  };

  return { handler, mint: (user, scopes) => mintZoom(state, user, scopes) };
}

function mintZoom(state: PlatformState, user: SandboxUser, scopes: string[]): MintedGrant {
  return {
    accessToken: state.issueAccess(user, scopes, TOKEN_PREFIX),
    refreshToken: state.issueRefresh(user, scopes, TOKEN_PREFIX),
    expiresIn: state.accessSeconds,
  };
}
