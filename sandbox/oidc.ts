import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Configuration } from 'oidc-provider';

/**
 * The sandbox's generic provider (SPEC §13): panva's certified OpenID Provider
 * (`oidc-provider`, from npm), in-process on a loopback port, not a model of one. The test
 * suite, `npm run sandbox` and the demo meet it as `acme`. Refresh tokens rotate on every use and a reused one revokes
 * its grant (the library's reuse detection), PKCE is required, TTLs are short, and its own login
 * and consent pages (devInteractions) are what the test's browser clicks through. Its state lives
 * in the provider object, so `stop()` and `start()` take it off the network and back without
 * forgetting grants.
 */
export interface SandboxOidc {
  issuer: string;
  clientId: string;
  /** A second client on the same OP, whose refresh tokens live `idleClientRefreshTtlSeconds` unused. */
  idleClientId: string;
  clientSecret: string;
  /** Read on every token the OP issues: a test shortens or lengthens them between steps. */
  ttl: { accessTokenSeconds: number };
  /** Every request the OP served, in order (`POST /token`, `POST /token/revocation` …). */
  requests: { method: string; path: string; grantType?: string }[];
  /** Grants the OP revoked, by reuse detection or by a revocation. */
  revokedGrants: string[];
  /** Successful token-endpoint answers by grant type. */
  grants: Record<string, number>;
  /** Finishes set-up once the service's redirect URIs are known (the issuer was needed first). */
  configure(redirectUriOf: (providerName: string) => string): void;
  /** Revokes every grant of an account, as a user removing the app at the OP does. */
  revokeAccount(accountId: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface SandboxOidcOptions {
  idleClientRefreshTtlSeconds?: number;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The claim that names the user's organisation (the service's `tenantClaim`). */
  tenantOf?: (accountId: string) => string;
}

export async function startOidcProvider(options: SandboxOidcOptions = {}): Promise<SandboxOidc> {
  // Loaded on demand: oidc-provider is an ES module, and only the sandbox's generic provider needs it.
  const { default: OidcProvider } = await import('oidc-provider');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'autoheal-test';
  const idleClientId = 'autoheal-idle';
  const clientSecret = 'op-client-secret-0123456789abcdef';
  const ttl = { accessTokenSeconds: 3600 };
  const requests: SandboxOidc['requests'] = [];
  const revokedGrants: string[] = [];
  const grants: Record<string, number> = {};
  const grantIdsOf = new Map<string, Set<string>>();
  let provider: Provider | undefined;
  let listening: Server | undefined = server;

  const op: SandboxOidc = {
    issuer,
    clientId,
    idleClientId,
    clientSecret,
    ttl,
    requests,
    revokedGrants,
    grants,
    configure(redirectUriOf) {
      const client = (id: string, redirectUris: string[]): ClientMetadata => ({
        client_id: id,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const configuration: Configuration = {
        clients: [client(clientId, [redirectUriOf('acme'), redirectUriOf('acme-bad')]), client(idleClientId, [redirectUriOf('acme-idle')])],
        pkce: { required: () => true },
        rotateRefreshToken: true,
        ttl: {
          AccessToken: () => ttl.accessTokenSeconds,
          // Each rotated refresh token gets the full lifetime again: an idle lifetime, as the service's `refreshIdleLifetime` describes.
          RefreshToken: (_ctx, _token, c) => (c.clientId === idleClientId ? (options.idleClientRefreshTtlSeconds ?? 2) : 86_400),
          AuthorizationCode: 60,
          IdToken: 3600,
          Interaction: 600,
          Session: 3600,
          Grant: 86_400,
        },
        features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
        scopes: ['openid', 'offline_access', 'profile', 'email', 'org'],
        claims: { openid: ['sub'], profile: ['name'], email: ['email'], org: ['org'] },
        // The tenant claim is read from the ID token (the service's identity source), so the ID token carries scope claims.
        conformIdTokenClaims: false,
        findAccount: (_ctx, sub) => ({
          accountId: sub,
          claims: () => ({ sub, name: `User ${sub}`, email: `${sub}@example.test`, org: options.tenantOf?.(sub) ?? 'acme-corp' }),
        }),
      };
      provider = new OidcProvider(issuer, configuration);
      provider.use(async (ctx, next) => {
        requests.push({ method: ctx.method, path: ctx.path });
        await next();
      });
      provider.on('grant.success', (ctx) => {
        const grantType = String((ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type);
        grants[grantType] = (grants[grantType] ?? 0) + 1;
        const request = requests.findLast((r) => r.path === '/token');
        if (request) request.grantType = grantType;
        const grantId = ctx.oidc.entities.Grant?.jti;
        const account = ctx.oidc.entities.Account?.accountId;
        if (grantId && account) grantIdsOf.set(account, (grantIdsOf.get(account) ?? new Set()).add(grantId));
      });
      provider.on('grant.revoked', (_ctx, grantId: string) => revokedGrants.push(grantId));
      const handle = provider.callback();
      server.on('request', (req, res) => void handle(req, res));
    },
    async revokeAccount(accountId) {
      if (!provider) throw new Error('configure() first');
      for (const grantId of grantIdsOf.get(accountId) ?? []) {
        await Promise.all([provider.AccessToken.revokeByGrantId(grantId), provider.RefreshToken.revokeByGrantId(grantId)]);
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
        revokedGrants.push(grantId);
      }
    },
    async stop() {
      const s = listening;
      listening = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      listening = server;
    },
    async close() {
      await op.stop();
    },
  };
  return op;
}

/**
 * The PROVIDERS_FILE entry (SPEC §13) that points the service at this OP as `name`; its secret
 * is read from `secretEnv`. Scopes ask for a refresh token (`offline_access`) and the `org`
 * claim, the tenant.
 */
export function providerEntry(op: SandboxOidc, name = 'acme', secretEnv = 'ACME_CLIENT_SECRET'): Record<string, unknown> {
  return {
    name,
    displayName: 'Acme ID (sandbox OpenID Provider)',
    issuer: op.issuer,
    clientId: op.clientId,
    clientSecretEnv: secretEnv,
    tenantClaim: 'org',
    scopes: [
      { scope: 'openid', reason: 'Sign you in.' },
      { scope: 'offline_access', reason: 'Keep the relay connected while you are away.' },
      { scope: 'profile', reason: 'Show your name on incidents.' },
      { scope: 'org', reason: 'Know which organisation you belong to.' },
    ],
  };
}

/**
 * What a person does with a connect link, without a browser: post our connect page's form, sign
 * in at the OP's login page as `login` (any password), press Continue on its consent page, and
 * land on our callback. Cookies are kept per host, as a browser would. Answers the callback's
 * HTTP status (200: connected). For the demo; the test suite drives real Chromium instead.
 */
export async function signInWithoutBrowser(linkUrl: string, login: string): Promise<number> {
  const jar = new Map<string, Map<string, string>>();
  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const host = new URL(url).host;
    const cookies = jar.get(host) ?? new Map<string, string>();
    jar.set(host, cookies);
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    return res;
  };
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const service = new URL(linkUrl).host;
  let url = linkUrl;
  let res = await go(url, form({}));
  for (let step = 0; step < 20; step++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).toString();
      if (new URL(url).host === service && new URL(url).pathname.endsWith('/callback')) return (await go(url)).status;
      res = await go(url);
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) return res.status;
    const target = new URL(action.replace(/&amp;/g, '&'), url).toString();
    res = await go(target, form(html.includes('name="login"') ? { prompt: 'login', login, password: 'any password' } : { prompt: 'consent' }));
    url = target;
  }
  return 0;
}
