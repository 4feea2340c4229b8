/** Microsoft identity platform v2.0: authorize, token, OpenID configuration, instance discovery. */
import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { microsoftError } from './errors';
import { basicAuth, Req, sendJson } from './http';
import { authorize, redeemCode, splitScopes } from './oauth';
import { PlatformContext, PlatformModule, tokenPreamble } from './platform';
import { PlatformState, randomToken } from './state';
import { MintedGrant, SandboxUser } from './types';

const ROUTE = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/;
const OPENID = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const GRAPH_PREFIX = 'https://graph.microsoft.com/';

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Scopes as Entra ID echoes them: Graph prefix dropped, offline_access not listed. */
function echoScopes(scopes: string[]): string {
  const out = scopes.filter((s) => s !== 'offline_access').map((s) => (s.startsWith(GRAPH_PREFIX) ? s.slice(GRAPH_PREFIX.length) : s));
  return (out.length > 0 ? out : ['openid', 'profile', 'User.Read']).join(' ');
}

/** Endpoint metadata in the OpenID configuration shape; msal-node's authorityMetadata takes the same JSON. */
export function microsoftMetadata(origin: string, tenant: string): Record<string, unknown> {
  return {
    token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${origin.replace(/^http:/, 'https:')}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${origin}/oidc/userinfo`,
    authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'tid', 'ver', 'oid', 'preferred_username'],
    kerberos_endpoint: `${origin}/${tenant}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

export function createMicrosoft(ctx: PlatformContext): PlatformModule {
  const { state } = ctx;
  const creds = ctx.credentials.microsoft;

  function idToken(user: SandboxUser, nonce: string | undefined): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: creds.clientId,
      iss: `${ctx.origin()}/${user.tenantExternalId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.displayName,
      nonce,
      oid: user.userExternalId,
      preferred_username: user.email,
      rh: '0.sandbox',
      sub: randomToken(16),
      tid: user.tenantExternalId,
      uti: randomToken(12),
      ver: '2.0',
    };
    // Unsigned in substance: msal-node decodes the ID token but does not verify its signature.
    return `${b64url({ typ: 'JWT', alg: 'RS256', kid: 'sandbox' })}.${b64url(claims)}.${randomToken(32)}`;
  }

  /**
   * The members the auth code flow page documents for a code redemption and a refresh alike
   * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow,
   * "Successful response"). `client_info` is added only when the request asks with
   * `client_info=1`, as MSAL does (msal-common's RequestParameterBuilder.addClientInfo).
   */
  function userTokens(user: SandboxUser, scopes: string[], form: Record<string, string>, nonce?: string): Record<string, unknown> {
    const accessToken = state.issueAccess(user, scopes, 'eyJ0eXAiOiJKV1QiLCJzYW5kYm94Ijp0cnVlfQ.');
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: state.accessSeconds,
      scope: echoScopes(scopes),
      refresh_token: state.issueRefresh(user, scopes, '1.AQ'),
      id_token: idToken(user, nonce),
    };
    if (form.client_info === '1') body.client_info = b64url({ uid: user.userExternalId, utid: user.tenantExternalId });
    return body;
  }

  function clientCredentials(req: Req): { id: string; secret: string } {
    const basic = basicAuth(req);
    return basic ?? { id: req.form.client_id ?? '', secret: req.form.client_secret ?? '' };
  }

  /** Client checks come first on Entra ID: unknown app → 700016, wrong secret → 7000215 (401). */
  function checkClient(res: ServerResponse, req: Req, tenant: string): boolean {
    const { id, secret } = clientCredentials(req);
    const known: Record<string, string> = { [creds.clientId]: creds.clientSecret, [creds.botAppId]: creds.botAppSecret };
    const expected = known[id];
    if (expected === undefined) {
      const e = microsoftError(700016, { vars: { appId: id, tenant } });
      sendJson(res, e.status, e.body);
      return false;
    }
    if (secret !== expected) {
      const e = microsoftError(7000215, { vars: { appId: id } });
      sendJson(res, e.status, e.body);
      return false;
    }
    return true;
  }

  async function token(req: Req, res: ServerResponse, tenant: string): Promise<void> {
    const grant = req.form.grant_type ?? '';
    const presented = grant === 'refresh_token' ? state.refreshTokens.get(req.form.refresh_token ?? '') : undefined;
    const codeUser = grant === 'authorization_code' ? state.codes.get(req.form.code ?? '')?.user : undefined;
    if (await tokenPreamble(state, res, grant, presented?.user ?? codeUser)) return;
    if (!checkClient(res, req, tenant)) return;
    const fail = (n: number, vars: Record<string, string> = {}): void => {
      const e = microsoftError(n, { vars });
      sendJson(res, e.status, e.body);
    };
    if (grant === 'client_credentials') {
      const bot = state.issueBot(tenant, 'eyJ0eXAiOiJKV1QiLCJib3QiOnRydWV9.');
      const seconds = state.accessSeconds;
      return sendJson(res, 200, { token_type: 'Bearer', expires_in: seconds, ext_expires_in: seconds, access_token: bot });
    }
    if (grant === 'authorization_code') {
      const outcome = redeemCode(state, req.form);
      if (!outcome.ok) {
        const numbers = { unknown: 9002313, used: 54005, expired: 70008, redirect_mismatch: 500112, pkce_mismatch: 501481 };
        return fail(numbers[outcome.problem]);
      }
      const scopes = splitScopes(req.form.scope).length > 0 ? splitScopes(req.form.scope) : outcome.code.scopes;
      return sendJson(res, 200, userTokens(outcome.code.user, scopes, req.form, outcome.code.nonce));
    }
    if (grant === 'refresh_token') {
      if (!presented) return fail(9002313);
      if (presented.expiresAt < Date.now()) return fail(700082, { issued: new Date(presented.issuedAt).toISOString() });
      // Entra ID keeps an older refresh token usable; we answer normally but record the reuse
      // so tests can prove the service stores every rotated token.
      if (presented.supersededAt !== undefined) state.recordReuse(presented.user);
      presented.supersededAt = Date.now();
      const scopes = splitScopes(req.form.scope).length > 0 ? splitScopes(req.form.scope) : presented.scopes;
      return sendJson(res, 200, userTokens(presented.user, scopes, req.form));
    }
    fail(70003);
  }

  const handler = async (req: Req, res: ServerResponse): Promise<boolean> => {
    const route = ROUTE.exec(req.path);
    if (route && route[2] === 'authorize' && req.method === 'GET') {
      authorize(state, req, res, {
        clientId: creds.clientId,
        requirePkce: true,
        denyDescription: 'AADSTS65004: User declined to consent to access the app.',
        denyExtra: { error_subcode: 'cancel' },
      });
      return true;
    }
    if (route && route[2] === 'token' && req.method === 'POST') {
      await token(req, res, route[1]);
      return true;
    }
    const openid = OPENID.exec(req.path);
    if (openid) {
      sendJson(res, 200, microsoftMetadata(ctx.origin(), openid[1]));
      return true;
    }
    if (req.path === '/common/discovery/instance') {
      const host = new URL(ctx.origin()).host;
      sendJson(res, 200, {
        tenant_discovery_endpoint: `${ctx.origin()}/{tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return true;
    }
    if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(req.path)) {
      sendJson(res, 200, { keys: [] });
      return true;
    }
    return false;
  };

  return { handler, mint: (user, scopes) => mintMicrosoft(state, user, scopes) };
}

function mintMicrosoft(state: PlatformState, user: SandboxUser, scopes: string[]): MintedGrant {
  return {
    accessToken: state.issueAccess(user, scopes, 'eyJ0eXAiOiJKV1QiLCJzYW5kYm94Ijp0cnVlfQ.'),
    refreshToken: state.issueRefresh(user, scopes, '1.AQ'),
    expiresIn: state.accessSeconds,
  };
}

export function newMicrosoftIds(): { clientId: string; clientSecret: string; botAppId: string; botAppSecret: string } {
  return { clientId: randomUUID(), clientSecret: `sbx8Q~${randomToken(30)}`, botAppId: randomUUID(), botAppSecret: `sbx8Q~${randomToken(30)}` };
}
