import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Provider } from './oauth2-provider';
import type { ProviderDescription } from './provider-description';
import { ProviderFailure } from './platform';
import { RFC6749_SIGNALS } from './rfc6749-signals';

/** A one-route server: discovery and token answers as a test sets them. */
let server: Server;
let base: string;
let discovery: Record<string, unknown> = {};
let tokenAnswer: Record<string, unknown> = {};
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url?.startsWith('/.well-known/openid-configuration') ? discovery : tokenAnswer;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const describe_ = (issuer: string): ProviderDescription => ({
  name: 'acme',
  clientId: 'autoheal',
  clientSecret: 'secret',
  endpoints: { issuer },
  clientAuth: 'client_secret_basic',
  pkce: true,
  scopeSeparator: ' ',
  scopesEchoed: true,
  rotatesRefreshToken: true,
  identity: { from: 'id_token', user: 'sub', tenant: 'org', name: 'name' },
  failureCodeFields: [],
  defaultTokenType: 'Bearer',
  scopes: { user: [{ scope: 'openid', reason: 'r' }], bot: [], grants: { notEchoed: [], stripPrefixes: [], caseInsensitive: false } },
  signals: { ...RFC6749_SIGNALS, platform: 'acme' },
  prompts: 'events',
});

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const exchange = (p: OAuth2Provider) => p.exchangeCode({ code: 'c', codeVerifier: 'v'.repeat(43), redirectUri: 'https://svc/cb' });

describe('OAuth2Provider with OIDC discovery', () => {
  it('refuses a discovery document that names another issuer (Discovery §4.3)', async () => {
    discovery = { issuer: 'https://elsewhere.example', authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token` };
    await expect(new OAuth2Provider(describe_(base)).ready()).rejects.toThrow(ProviderFailure);
  });

  it('refuses discovered endpoints that are plain http off loopback: the client secret would travel in clear', async () => {
    discovery = { issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: 'http://token.example/token' };
    await expect(new OAuth2Provider(describe_(base)).ready()).rejects.toMatchObject({ signals: { description: expect.stringMatching(/tokenUrl must be https/) } });
  });

  it('reads identity from the ID token only when it is for us, from this issuer, and not expired', async () => {
    discovery = { issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token` };
    const provider = new OAuth2Provider(describe_(base));
    const exp = Math.floor(Date.now() / 1000) + 300;
    const answer = (claims: object) => (tokenAnswer = { access_token: 'at', refresh_token: 'rt', expires_in: 60, id_token: jwt(claims) });

    answer({ iss: base, aud: 'autoheal', exp, sub: 'u1', org: 'o1', name: 'U One' });
    await expect(exchange(provider)).resolves.toMatchObject({ identity: { userExternalId: 'u1', tenantExternalId: 'o1', displayName: 'U One' } });
    answer({ iss: base, aud: 'someone-else', exp, sub: 'u1', org: 'o1' });
    await expect(exchange(provider)).rejects.toThrow(ProviderFailure);
    answer({ iss: 'https://evil.example', aud: 'autoheal', exp, sub: 'u1', org: 'o1' });
    await expect(exchange(provider)).rejects.toThrow(ProviderFailure);
    answer({ iss: base, aud: ['autoheal', 'other'], exp, sub: 'u1', org: 'o1' }); // several audiences and no azp
    await expect(exchange(provider)).rejects.toThrow(ProviderFailure);
    answer({ iss: base, aud: 'autoheal', exp: exp - 3600, sub: 'u1', org: 'o1' });
    await expect(exchange(provider)).rejects.toThrow(ProviderFailure);
    answer({ iss: base, aud: 'autoheal', exp, sub: 'u1' }); // no tenant claim
    await expect(exchange(provider)).rejects.toMatchObject({ signals: { description: 'the identity lacks org' } });
  });
});
