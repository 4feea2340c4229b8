import { randomUUID } from 'node:crypto';
import { AuthError, ConfidentialClientApplication, CryptoProvider, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { microsoftError, msalAuthOptions, Sandbox, startSandbox } from './index';

const REDIRECT = 'http://localhost:3000/oauth/microsoft/callback';
const SCOPES = ['User.Read', 'Chat.Read'];

describe('sandbox: Microsoft identity platform through @azure/msal-node', () => {
  let sandbox: Sandbox;
  const oid = randomUUID();
  const tid = randomUUID();

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    sandbox.control.reset();
    sandbox.control.addUser('microsoft', { tenantExternalId: tid, userExternalId: oid, email: 'ada@contoso.test', displayName: 'Ada Lovelace' });
    sandbox.control.signIn('microsoft', oid);
  });

  function app(secret = sandbox.env.MICROSOFT_CLIENT_SECRET): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: { clientId: sandbox.env.MICROSOFT_CLIENT_ID, clientSecret: secret, ...msalAuthOptions(sandbox.env.MICROSOFT_AUTHORITY_HOST, 'organizations') },
    });
  }

  /** Runs the browser leg: follow the authorize URL and read the code off the redirect. */
  async function browse(url: string): Promise<URL> {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '');
  }

  async function signInWithPkce(cca: ConfidentialClientApplication): Promise<{ refreshToken: string; accessToken: string }> {
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await cca.getAuthCodeUrl({ scopes: SCOPES, redirectUri: REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256', state: 'st-1' });
    expect(url.startsWith(`${sandbox.env.MICROSOFT_AUTHORITY_HOST}/organizations/oauth2/v2.0/authorize`)).toBe(true);
    const back = await browse(url);
    expect(back.searchParams.get('state')).toBe('st-1');
    const result = await cca.acquireTokenByCode({ code: back.searchParams.get('code') ?? '', scopes: SCOPES, redirectUri: REDIRECT, codeVerifier: verifier });
    expect(result.uniqueId).toBe(oid);
    expect(result.tenantId).toBe(tid);
    expect(result.account?.username).toBe('ada@contoso.test');
    expect(result.idTokenClaims).toMatchObject({ oid, tid, preferred_username: 'ada@contoso.test', name: 'Ada Lovelace' });
    return { refreshToken: refreshTokenOf(cca), accessToken: result.accessToken };
  }

  /** MSAL keeps the refresh token to itself; the serialized cache is the only way to read it. */
  function refreshTokenOf(cca: ConfidentialClientApplication): string {
    const cache = JSON.parse(cca.getTokenCache().serialize()) as { RefreshToken: Record<string, { secret: string }> };
    const [entry] = Object.values(cache.RefreshToken);
    return entry.secret;
  }

  it('signs in with auth code + PKCE and refreshes', async () => {
    const cca = app();
    const first = await signInWithPkce(cca);
    const refreshed = await app().acquireTokenByRefreshToken({ refreshToken: first.refreshToken, scopes: SCOPES });
    expect(refreshed?.accessToken).toBeDefined();
    expect(refreshed?.accessToken).not.toBe(first.accessToken);
    expect(sandbox.control.tokenCalls('microsoft', { userExternalId: oid, grantType: 'refresh_token' })).toBe(1);
    expect(sandbox.control.tokenCalls('microsoft', { grantType: 'authorization_code' })).toBe(1);
    expect(sandbox.control.reuseEvents('microsoft')).toEqual([]);
  });

  it('refuses a wrong PKCE verifier and a replayed code with the real AADSTS numbers', async () => {
    const cca = app();
    const { challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await cca.getAuthCodeUrl({ scopes: SCOPES, redirectUri: REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256' });
    const code = (await browse(url)).searchParams.get('code') ?? '';
    const wrong = await cca.acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT, codeVerifier: 'x'.repeat(43) }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ServerError);
    expect(Number((wrong as ServerError).errorNo)).toBe(501481);
    const replay = await cca.acquireTokenByCode({ code, scopes: SCOPES, redirectUri: REDIRECT }).catch((e: unknown) => e);
    expect(Number((replay as ServerError).errorNo)).toBe(54005);
  });

  it('surfaces an injected AADSTS error with errorNo and subError', async () => {
    const { refreshToken } = await signInWithPkce(app());
    sandbox.control.failRefreshes('microsoft', { userExternalId: oid }, microsoftError(50076), 1);
    const error = await app()
      .acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InteractionRequiredAuthError);
    // msal types errorNo as string, but it is error_codes[0] from the JSON: a number.
    expect(Number((error as InteractionRequiredAuthError).errorNo)).toBe(50076);
    expect((error as InteractionRequiredAuthError).subError).toBe('basic_action');

    sandbox.control.failRefreshes('microsoft', { tenantExternalId: tid }, microsoftError(53003), 1);
    const blocked = await app()
      .acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(Number((blocked as AuthError & { errorNo?: string }).errorNo)).toBe(53003);
    expect((blocked as AuthError).subError).toBe('message_only');

    // Once the failures are used up the same refresh token works again.
    await expect(app().acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES })).resolves.toBeTruthy();
  });

  it('answers a wrong client secret with AADSTS7000215 and HTTP 401', async () => {
    const { refreshToken } = await signInWithPkce(app());
    const error = await app('wrong')
      .acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).errorCode).toBe('invalid_client');
    expect(Number((error as ServerError).errorNo)).toBe(7000215);
    // msal-node does not carry the HTTP status on ServerError: classify by errorNo/errorCode.
    expect((error as ServerError).status).toBeUndefined();
  });

  it('expires refresh tokens by their lifetime with AADSTS700082', async () => {
    sandbox.control.setTokenLifetimes('microsoft', { refreshTokenSeconds: -1 });
    const grant = sandbox.control.mintGrant('microsoft', { tenantExternalId: tid, userExternalId: oid, scopes: SCOPES });
    const error = await app()
      .acquireTokenByRefreshToken({ refreshToken: grant.refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(Number((error as ServerError).errorNo)).toBe(700082);
  });

  it('shows what a non-JSON 502 and a reset look like through msal', async () => {
    const grant = sandbox.control.mintGrant('microsoft', { tenantExternalId: tid, userExternalId: oid });
    sandbox.control.failRefreshes('microsoft', {}, { status: 502, body: '<html><body>502 Bad Gateway</body></html>' }, 1);
    const gateway = await app()
      .acquireTokenByRefreshToken({ refreshToken: grant.refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(gateway).toBeInstanceOf(AuthError);
    // No HTTP status reaches the caller: only MSAL's own parse failure.
    expect((gateway as AuthError).errorCode).toBe('token_parsing_error');
    sandbox.control.failRefreshes('microsoft', {}, { reset: true }, 1);
    const reset = await app()
      .acquireTokenByRefreshToken({ refreshToken: grant.refreshToken, scopes: SCOPES })
      .catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(AuthError);
    expect((reset as AuthError).errorCode).toBe('network_error');
  });

  it('denies consent with error=access_denied on the redirect', async () => {
    sandbox.control.denyConsent('microsoft', true);
    const { challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await app().getAuthCodeUrl({ scopes: SCOPES, redirectUri: REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256', state: 's' });
    const back = await browse(url);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toMatch(/^AADSTS65004:/);
  });
});
