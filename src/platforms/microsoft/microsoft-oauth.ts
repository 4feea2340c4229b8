import {
  AuthenticationResult,
  AuthError,
  ConfidentialClientApplication,
  INetworkModule,
  InteractionRequiredAuthError,
  LogLevel,
  NetworkRequestOptions,
  NetworkResponse,
  ServerError,
} from '@azure/msal-node';
import { isRecord } from '../../common/is-record';
import type { AppConfig } from '../../config/app-config';
import { Secret } from '../../vault/secret';
import { retryAfterSeconds, trimDescription, upstream, UPSTREAM_TIMEOUT_MS } from '../http';
import { grantedScopes, statedScopes } from '../oauth2';
import { AuthorizeRequest, CodeExchangeRequest, FailureSignals, Identity, OAuthProvider, ProviderFailure, RefreshRequest, TokenSet } from '../platform';
import { scopeCatalog } from '../scope-catalog';
import { MICROSOFT_SIGNALS } from './microsoft-signals';
import { MICROSOFT_REFRESH_TOKEN_LIFETIME_MS, MICROSOFT_SCOPES } from './microsoft-scopes';

type Operation = FailureSignals['operation'];

/** OpenID Connect scopes MSAL adds to every request by itself. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

/**
 * Entra ID through msal-node.
 *
 * One `ConfidentialClientApplication` per call: its token cache then only ever holds the one
 * user's tokens (no leak between users, nothing to evict) and MSAL's throttling entries (it
 * caches a 429/5xx answer and replays it for a while) die with the call, so our own backoff
 * decides when to retry. The price, a client built and its cache serialised per call, is about
 * 0.6 ms of CPU a refresh (docs/benchmarks.md, "Refresh sweep").
 *
 * MSAL drops the HTTP status and Retry-After of a failed token call and has no timeout, so it
 * talks through our own `INetworkModule` built on `upstream()`: that records status and
 * Retry-After, applies the 10 s timeout, and keeps the real cause (timeout, reset, non-JSON
 * body) that MSAL would flatten into `network_error` / `token_parsing_error`.
 *
 * The authority is always given with `knownAuthorities` and `authorityMetadata` built from
 * `MICROSOFT_AUTHORITY_HOST` (SPEC §9 fixes the endpoint layout): a per-call client would
 * otherwise fetch instance discovery and the OpenID configuration on every refresh, and this is
 * also what lets a plain-http host (the sandbox) work, since MSAL insists on an https authority.
 */
export class MicrosoftOAuth implements OAuthProvider {
  readonly platform = 'microsoft' as const;
  readonly displayName = 'Microsoft Teams';
  readonly scopes = MICROSOFT_SCOPES;
  readonly signals = MICROSOFT_SIGNALS;
  readonly prompts = 'bot' as const;
  readonly enabled: boolean;
  readonly requiredScopes: readonly string[];
  private readonly host: URL;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: AppConfig,
    options: { timeoutMs?: number } = {},
  ) {
    this.enabled = Boolean(config.microsoft.clientId && config.microsoft.clientSecret);
    this.requiredScopes = scopeCatalog('microsoft').requiredScopes;
    this.host = new URL(config.microsoft.authorityHost);
    this.timeoutMs = options.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
  }

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(`${this.host.origin}/${request.tenantExternalId ?? 'organizations'}/oauth2/v2.0/authorize`);
    const params: Record<string, string | undefined> = {
      client_id: this.config.microsoft.clientId,
      response_type: 'code',
      response_mode: 'query',
      redirect_uri: request.redirectUri,
      scope: this.requiredScopes.join(' '),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      login_hint: request.loginHint,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<{ tokens: TokenSet; identity: Identity }> {
    const { result, cca, network } = await this.call('exchange', request.tenantExternalId ?? 'organizations', (app) =>
      app.acquireTokenByCode({ code: request.code, codeVerifier: request.codeVerifier, redirectUri: request.redirectUri, scopes: this.msalScopes([]) }),
    );
    const claims = result.idTokenClaims as { oid?: unknown; tid?: unknown; name?: unknown; preferred_username?: unknown };
    if (typeof claims.oid !== 'string' || typeof claims.tid !== 'string') {
      throw new ProviderFailure({ platform: 'microsoft', operation: 'identify', error: 'missing_claims', description: 'ID token lacks oid or tid' });
    }
    const identity: Identity = {
      userExternalId: claims.oid,
      tenantExternalId: claims.tid,
      displayName: typeof claims.name === 'string' ? claims.name : undefined,
      email: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
    };
    return { tokens: tokenSet(result, cca, network, this.requiredScopes), identity };
  }

  async refresh(request: RefreshRequest): Promise<TokenSet> {
    const { result, cca, network } = await this.call('refresh', request.tenantExternalId, async (app) => {
      // forceCache: a fresh client has no account, and without it MSAL drops the rotated refresh token.
      const answer = await app.acquireTokenByRefreshToken({ refreshToken: request.refreshToken.reveal(), scopes: this.msalScopes(request.scopes), forceCache: true });
      // msal-node types this as nullable; it only is for a cached answer, which a fresh client never has.
      if (!answer) throw new ProviderFailure({ platform: 'microsoft', operation: 'refresh', error: 'empty_result', description: 'MSAL returned no token' });
      return answer;
    });
    return tokenSet(result, cca, network, request.scopes);
  }

  /** Entra ID has no endpoint that revokes one delegated grant (only all of a user's sessions). */
  async revoke(): Promise<void> {}

  /**
   * Graph scopes to ask for: the catalog's and any the grant holds beyond them (MSAL adds the
   * OIDC ones). Asking for every required scope, not only the granted ones, lets a grant that
   * drifted heal once an admin consents again; until then Entra answers AADSTS65001.
   */
  private msalScopes(granted: readonly string[]): string[] {
    return [...new Set([...this.requiredScopes, ...granted])].filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
  }

  private client(tenant: string, network: INetworkModule): ConfidentialClientApplication {
    const origin = this.host.origin;
    const metadata = {
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
      end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
      jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      issuer: `https://${this.host.host}/${tenant}/v2.0`,
    };
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.config.microsoft.clientId ?? '',
        clientSecret: this.config.microsoft.clientSecret ?? '',
        authority: `https://${this.host.host}/${tenant}`,
        knownAuthorities: [this.host.host],
        authorityMetadata: JSON.stringify(metadata),
      },
      system: { networkClient: network, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } },
    });
  }

  private async call<T>(
    operation: Operation,
    tenant: string,
    run: (app: ConfidentialClientApplication) => Promise<T>,
  ): Promise<{ result: T; cca: ConfidentialClientApplication; network: RecordingNetwork }> {
    const network = new RecordingNetwork(operation, this.timeoutMs);
    const cca = this.client(tenant, network);
    try {
      return { result: await run(cca), cca, network };
    } catch (error) {
      throw failureOf(operation, error, network);
    }
  }
}

/** An `INetworkModule` on `upstream()` that remembers what MSAL does not pass on. */
class RecordingNetwork implements INetworkModule {
  status?: number;
  retryAfterSeconds?: number;
  /** A failure below the OAuth layer (timeout, reset, non-JSON body), kept as it happened. */
  failure?: ProviderFailure;
  /**
   * The token endpoint's own answer: MSAL fills a missing `scope` with the scopes of its request
   * (OIDC ones included), which would hide whether Entra stated any (SPEC §8).
   */
  tokenAnswer?: Record<string, unknown>;

  constructor(
    private readonly operation: Operation,
    private readonly timeoutMs: number,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    try {
      const answer = await upstream('microsoft', this.operation, url, { method, headers: options?.headers, body: options?.body, timeoutMs: this.timeoutMs });
      this.status = answer.status;
      this.retryAfterSeconds = retryAfterSeconds(answer.headers);
      if (answer.json === null || typeof answer.json !== 'object') {
        throw new ProviderFailure({
          platform: 'microsoft',
          operation: this.operation,
          httpStatus: answer.status,
          network: 'unparseable',
          retryAfterSeconds: this.retryAfterSeconds,
          description: `non-JSON answer (${answer.headers.get('content-type') ?? 'no content type'})`,
        });
      }
      if (method === 'POST' && isRecord(answer.json) && typeof answer.json.access_token === 'string') this.tokenAnswer = answer.json;
      const headers: Record<string, string> = {};
      answer.headers.forEach((value, key) => (headers[key] = value));
      // MSAL's network contract is generic over the body; it validates the shape itself.
      return { status: answer.status, headers, body: answer.json as T };
    } catch (error) {
      if (error instanceof ProviderFailure) this.failure = error;
      throw error;
    }
  }
}

/** Turns whatever MSAL threw into our signals; never carries a token or a code. */
function failureOf(operation: Operation, error: unknown, network: RecordingNetwork): ProviderFailure {
  if (network.failure) return network.failure;
  if (error instanceof ProviderFailure) return error;
  const base: FailureSignals = { platform: 'microsoft', operation, httpStatus: network.status, retryAfterSeconds: network.retryAfterSeconds };
  if (error instanceof ServerError || error instanceof InteractionRequiredAuthError) {
    const message = error.errorMessage ?? '';
    // errorNo is typed string but is error_codes[0] from the JSON (a number); old answers lack it.
    const number = Number(error.errorNo);
    const parsed = /AADSTS(\d+)/.exec(message);
    return new ProviderFailure({
      ...base,
      error: error.errorCode || undefined,
      aadsts: Number.isInteger(number) && number > 0 ? number : parsed ? Number(parsed[1]) : undefined,
      suberror: error.subError || undefined,
      description: trimDescription(/AADSTS\d+:[^\r\n]*/.exec(message)?.[0] ?? message),
    });
  }
  if (error instanceof AuthError) {
    // Client-side MSAL errors: the network ones are transient; anything else keeps its code.
    const network = error.errorCode === 'network_error' ? 'connection' : error.errorCode === 'token_parsing_error' ? 'unparseable' : undefined;
    return new ProviderFailure({ ...base, network, error: network ? undefined : error.errorCode, description: trimDescription(error.errorMessage) });
  }
  return new ProviderFailure({ ...base, network: 'connection', description: trimDescription(String((error as Error)?.message ?? error)) });
}

/**
 * The token set of an MSAL answer; the refresh token only exists in the (per-call) cache. Scopes
 * follow SPEC §8 from the wire answer: `requested` when Entra names none.
 */
function tokenSet(result: AuthenticationResult, cca: ConfidentialClientApplication, network: RecordingNetwork, requested: readonly string[]): TokenSet {
  const now = Date.now();
  const refreshToken = refreshTokenOf(cca);
  return {
    accessToken: new Secret(result.accessToken),
    refreshToken: refreshToken === undefined ? undefined : new Secret(refreshToken),
    accessTokenExpiresAt: result.expiresOn ?? new Date(now + 3600_000),
    refreshTokenExpiresAt: refreshToken === undefined ? undefined : new Date(now + MICROSOFT_REFRESH_TOKEN_LIFETIME_MS),
    ...grantedScopes(statedScopes(network.tokenAnswer?.scope), requested),
    tokenType: result.tokenType || 'Bearer',
  };
}

function refreshTokenOf(cca: ConfidentialClientApplication): string | undefined {
  const cache: unknown = JSON.parse(cca.getTokenCache().serialize());
  const entries = isRecord(cache) && isRecord(cache.RefreshToken) ? Object.values(cache.RefreshToken) : [];
  for (const entry of entries) if (isRecord(entry) && typeof entry.secret === 'string') return entry.secret;
  return undefined;
}
