/** Webex: integration OAuth (refresh token is returned unchanged), people/me and messages. */
import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { webexApiError, webexOauthError } from './errors';
import { bearer, isRecord, Req, sendJson, str } from './http';
import { extractLinks } from './links';
import { authorize, redeemCode } from './oauth';
import { messagePreamble, PlatformContext, PlatformModule, tokenPreamble } from './platform';
import { PlatformState, randomToken } from './state';
import { MintedGrant, SandboxUser } from './types';

const DEAD_REFRESH = 'The refresh token provided is expired, revoked, malformed, or invalid.';
const NO_TOKEN = 'The request requires a valid access token set in the Authorization request header.';

export function newWebexIds(): { clientId: string; clientSecret: string; botToken: string } {
  const hex = (n: number): string => Buffer.from(randomToken(n), 'base64url').toString('hex');
  return { clientId: `C${hex(32)}`, clientSecret: hex(32), botToken: `${randomToken(48)}_SBX1_${randomUUID()}` };
}

/** Webex ids are base64 of a ciscospark:// URI; the sandbox keeps the caller's ids as they are. */
function personJson(user: SandboxUser): Record<string, unknown> {
  const [first, ...rest] = user.displayName.split(' ');
  return {
    id: user.userExternalId,
    emails: [user.email],
    phoneNumbers: [],
    displayName: user.displayName,
    nickName: first,
    firstName: first,
    lastName: rest.join(' '),
    orgId: user.tenantExternalId,
    created: '2024-01-01T00:00:00.000Z',
    status: 'active',
    type: 'person',
  };
}

export function createWebex(ctx: PlatformContext): PlatformModule {
  const { state } = ctx;
  const creds = ctx.credentials.webex;
  const oauthFail = (res: ServerResponse, error: string, description: string): void => {
    const e = webexOauthError(error, description);
    sendJson(res, e.status, e.body);
  };
  const apiFail = (res: ServerResponse, status: number, message: string): void => {
    const e = webexApiError(status, message);
    sendJson(res, e.status, e.body);
  };

  /**
   * Exactly the four members Webex documents for both the code exchange and the refresh
   * (https://developer.webex.com/docs/integrations, "Getting an Access Token" and "Using the
   * Refresh Token"): no `scope` and no `token_type`, so a client must not read the grant from them.
   */
  function tokenBody(user: SandboxUser, scopes: string[], refreshToken: string): Record<string, unknown> {
    const record = state.refreshTokens.get(refreshToken);
    const remaining = record ? Math.max(0, Math.round((record.expiresAt - Date.now()) / 1000)) : 0;
    return {
      access_token: state.issueAccess(user, scopes, randomToken(24) + '_'),
      expires_in: state.accessSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: Number.isFinite(remaining) ? remaining : state.refreshSeconds,
    };
  }

  async function accessToken(req: Req, res: ServerResponse): Promise<void> {
    const grant = req.form.grant_type ?? '';
    const presented = grant === 'refresh_token' ? state.refreshTokens.get(req.form.refresh_token ?? '') : undefined;
    const codeUser = grant === 'authorization_code' ? state.codes.get(req.form.code ?? '')?.user : undefined;
    if (await tokenPreamble(state, res, grant, presented?.user ?? codeUser)) return;
    if (req.form.client_id !== creds.clientId || req.form.client_secret !== creds.clientSecret) {
      return oauthFail(res, 'invalid_client', 'The client_id or client_secret is invalid.');
    }
    if (grant === 'authorization_code') {
      const outcome = redeemCode(state, req.form);
      if (outcome.ok) {
        const refresh = state.issueRefresh(outcome.code.user, outcome.code.scopes, randomToken(24) + '_');
        return sendJson(res, 200, tokenBody(outcome.code.user, outcome.code.scopes, refresh));
      }
      if (outcome.problem === 'redirect_mismatch') return oauthFail(res, 'invalid_request', 'The redirect_uri does not match the one used in the authorization request.');
      return oauthFail(res, 'invalid_grant', 'The authorization code is expired, revoked, malformed, or invalid.');
    }
    if (grant === 'refresh_token') {
      if (!presented || presented.expiresAt < Date.now()) return oauthFail(res, 'invalid_request', DEAD_REFRESH);
      // Webex hands back the same refresh token; its expiry does not move.
      return sendJson(res, 200, tokenBody(presented.user, presented.scopes, req.form.refresh_token ?? ''));
    }
    oauthFail(res, 'unsupported_grant_type', `Unsupported grant_type ${grant}`);
  }

  async function postMessage(req: Req, res: ServerResponse): Promise<void> {
    const token = bearer(req);
    const isBot = token === creds.botToken;
    const sender = state.liveAccess(token);
    if (!isBot && !sender) return apiFail(res, 401, NO_TOKEN);
    const body = isRecord(req.json) ? req.json : {};
    const recipient = str(body.toPersonId) ?? str(body.toPersonEmail) ?? str(body.roomId);
    if (!recipient) return apiFail(res, 400, 'Either roomId, toPersonId or toPersonEmail must be specified.');
    if (await messagePreamble(state, res)) return;
    const text = str(body.text) ?? str(body.markdown) ?? '';
    state.messages.push({ platform: 'webex', recipient, text, links: extractLinks([body.text, body.markdown, body.attachments]), raw: body, at: new Date() });
    sendJson(res, 200, {
      id: randomToken(24),
      roomId: randomToken(24),
      roomType: 'direct',
      toPersonId: body.toPersonId,
      toPersonEmail: body.toPersonEmail,
      text: body.text,
      markdown: body.markdown,
      personId: isBot ? 'sandbox-bot' : sender?.user.userExternalId,
      personEmail: isBot ? 'sandbox@webex.bot' : sender?.user.email,
      created: new Date().toISOString(),
    });
  }

  const handler = async (req: Req, res: ServerResponse): Promise<boolean> => {
    if (req.path === '/v1/authorize' && req.method === 'GET') {
      authorize(state, req, res, { clientId: creds.clientId, requirePkce: false, denyDescription: 'The resource owner or authorization server denied the request.' });
    } else if (req.path === '/v1/access_token' && req.method === 'POST') {
      await accessToken(req, res);
    } else if (req.path === '/v1/people/me' && req.method === 'GET') {
      const record = state.liveAccess(bearer(req));
      if (record) sendJson(res, 200, personJson(record.user));
      else apiFail(res, 401, NO_TOKEN);
    } else if (req.path === '/v1/messages' && req.method === 'POST') {
      await postMessage(req, res);
    } else return false;
    return true;
  };

  return { handler, mint: (user, scopes) => mintWebex(state, user, scopes) };
}

function mintWebex(state: PlatformState, user: SandboxUser, scopes: string[]): MintedGrant {
  return {
    accessToken: state.issueAccess(user, scopes, randomToken(24) + '_'),
    refreshToken: state.issueRefresh(user, scopes, randomToken(24) + '_'),
    expiresIn: state.accessSeconds,
    refreshTokenExpiresIn: state.refreshSeconds,
  };
}
