import { Secret } from '../vault/secret';
import { field, HttpResult, retryAfterSeconds, trimDescription, upstream, UPSTREAM_TIMEOUT_MS } from './http';
import { tokenSetFromJson } from './oauth2';
import { AuthorizeRequest, CodeExchangeRequest, FailureSignals, Identity, OAuthProvider, ProviderFailure, RefreshRequest, TokenSet } from './platform';
import { DEFAULT_TENANT, Endpoints, ProviderDescription } from './provider-description';
import { endpointUrlProblem } from './generic/providers-file';
import { catalogOf } from './scope-catalog';

type Operation = FailureSignals['operation'];

/**
 * The one RFC 6749 adapter (SPEC §13): authorization code with PKCE, refresh, RFC 7009
 * revocation and identity, every platform difference read from its `ProviderDescription`.
 * Transport is `upstream()` (no redirects followed, 10 s timeout).
 */
export class OAuth2Provider implements OAuthProvider {
  readonly platform: string;
  readonly displayName: string;
  readonly enabled: boolean;
  readonly requiredScopes: readonly string[];
  private discovered?: Endpoints;
  private discovering?: Promise<Endpoints>;
  private readonly timeoutMs: number;

  constructor(
    readonly description: ProviderDescription,
    options: { displayName?: string; timeoutMs?: number } = {},
  ) {
    this.platform = description.name;
    this.displayName = options.displayName ?? description.name;
    this.enabled = Boolean(description.clientId && description.clientSecret);
    this.requiredScopes = catalogOf(description.scopes).requiredScopes;
    this.timeoutMs = options.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
    if (!('issuer' in description.endpoints)) this.discovered = description.endpoints;
  }

  get scopes() {
    return this.description.scopes;
  }

  get signals() {
    return this.description.signals;
  }

  get prompts() {
    return this.description.prompts;
  }

  /** Reads the issuer's discovery document once (OpenID Connect Discovery 1.0 §4); a failure is retried on the next call. */
  async ready(): Promise<void> {
    await this.endpoints('authorize');
  }

  authorizeUrl(request: AuthorizeRequest): string {
    if (!this.discovered) throw new Error(`${this.platform}: ready() must resolve before authorizeUrl()`);
    const url = new URL(this.discovered.authorizeUrl);
    const params: Record<string, string | undefined> = {
      ...this.description.authorizeParams,
      response_type: 'code',
      client_id: this.description.clientId,
      redirect_uri: request.redirectUri,
      scope: this.requiredScopes.join(this.description.scopeSeparator),
      state: request.state,
      ...(this.description.pkce ? { code_challenge: request.codeChallenge, code_challenge_method: 'S256' } : {}),
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<{ tokens: TokenSet; identity: Identity }> {
    const form: Record<string, string> = { grant_type: 'authorization_code', code: request.code, redirect_uri: request.redirectUri };
    if (this.description.pkce) form.code_verifier = request.codeVerifier;
    const { tokens, json } = await this.token('exchange', this.requiredScopes, form);
    return { tokens, identity: await this.identify(tokens.accessToken, json) };
  }

  async refresh(request: RefreshRequest): Promise<TokenSet> {
    return (await this.token('refresh', request.scopes, { grant_type: 'refresh_token', refresh_token: request.refreshToken.reveal() })).tokens;
  }

  /** RFC 7009: a 200 is success, also for a token the server no longer knows; without an endpoint there is nothing to do. */
  async revoke(tokens: { accessToken?: Secret; refreshToken?: Secret }): Promise<void> {
    const endpoints = await this.endpoints('revoke');
    if (!endpoints.revocationUrl) return;
    const byAccess = this.description.revokeWith === 'access_token';
    const [token, hint] = byAccess ? [tokens.accessToken ?? tokens.refreshToken, 'access_token'] : [tokens.refreshToken ?? tokens.accessToken, 'refresh_token'];
    if (!token) return;
    const form: Record<string, string> = { token: token.reveal() };
    if (!byAccess) form.token_type_hint = hint;
    const answer = await this.post('revoke', endpoints.revocationUrl, form);
    if (answer.status === 200) return;
    const failure = this.failureOf('revoke', answer);
    const gone = this.description.revokeGoneCodes ?? [];
    if (failure.signals.platformCode !== undefined && gone.includes(failure.signals.platformCode)) return;
    throw failure;
  }

  private async endpoints(operation: Operation): Promise<Endpoints> {
    if (this.discovered) return this.discovered;
    const { issuer } = this.description.endpoints as { issuer: string };
    this.discovering ??= this.discover(issuer, operation).finally(() => (this.discovering = undefined));
    return (this.discovered = await this.discovering);
  }

  private async discover(issuer: string, operation: Operation): Promise<Endpoints> {
    const answer = await upstream(this.platform, operation, `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      headers: { accept: 'application/json' },
      timeoutMs: this.timeoutMs,
    });
    const document = answer.json;
    const authorizeUrl = field(document, 'authorization_endpoint');
    const tokenUrl = field(document, 'token_endpoint');
    // Discovery §4.3: the document's issuer must be exactly the one configured, or its endpoints are not that issuer's.
    if (answer.status !== 200 || field(document, 'issuer') !== issuer || !authorizeUrl || !tokenUrl) {
      throw new ProviderFailure({
        platform: this.platform,
        operation,
        httpStatus: answer.status,
        network: answer.status === 200 ? 'unparseable' : undefined,
        description: answer.status === 200 ? 'the discovery document does not name this issuer and its endpoints' : 'discovery failed',
      });
    }
    const endpoints: Endpoints = { issuer, authorizeUrl, tokenUrl, revocationUrl: field(document, 'revocation_endpoint'), userInfoUrl: field(document, 'userinfo_endpoint') };
    // Our client secret and users' tokens go to these: the same rule as for configured endpoints.
    for (const [name, value] of Object.entries(endpoints) as [string, string | undefined][]) {
      const problem = value === undefined ? undefined : endpointUrlProblem(value);
      if (problem) throw new ProviderFailure({ platform: this.platform, operation, network: 'unparseable', description: `discovered ${name} ${problem}` });
    }
    return endpoints;
  }

  private post(operation: Operation, url: string, form: Record<string, string>): Promise<HttpResult> {
    const { clientId = '', clientSecret = '', clientAuth } = this.description;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(form);
    if (clientAuth === 'client_secret_basic') {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined.
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', clientId);
      body.set('client_secret', clientSecret);
    }
    return upstream(this.platform, operation, url, { method: 'POST', headers, body: body.toString(), timeoutMs: this.timeoutMs });
  }

  /** `requested`: what the grant holds when the answer names no scopes (SPEC §8). */
  private async token(operation: Operation, requested: readonly string[], form: Record<string, string>): Promise<{ tokens: TokenSet; json: unknown }> {
    const endpoints = await this.endpoints(operation);
    const answer = await this.post(operation, endpoints.tokenUrl, form);
    const now = Date.now();
    const tokens = answer.status === 200 ? tokenSetFromJson(answer.json, requested, this.description.defaultTokenType, now) : undefined;
    if (!tokens) throw this.failureOf(operation, answer);
    const idle = this.description.refreshIdleLifetimeMs;
    if (tokens.refreshTokenExpiresAt === undefined && idle !== undefined) tokens.refreshTokenExpiresAt = new Date(now + idle);
    return { tokens, json: answer.json };
  }

  private async identify(accessToken: Secret, tokenAnswer: unknown): Promise<Identity> {
    const source = this.description.identity;
    let claims: unknown;
    if (source.from === 'id_token') {
      claims = this.idTokenClaims(field(tokenAnswer, 'id_token'));
    } else {
      const url = source.url ?? (await this.endpoints('identify')).userInfoUrl;
      if (!url) throw new ProviderFailure({ platform: this.platform, operation: 'identify', description: 'no user-info endpoint is known' });
      const answer = await upstream(this.platform, 'identify', url, {
        headers: { authorization: `Bearer ${accessToken.reveal()}`, accept: 'application/json' },
        timeoutMs: this.timeoutMs,
      });
      if (answer.status !== 200) throw this.failureOf('identify', answer);
      claims = answer.json;
    }
    const user = textAt(claims, source.user);
    const tenant = source.tenant === undefined ? DEFAULT_TENANT : textAt(claims, source.tenant);
    if (!user || !tenant) {
      throw new ProviderFailure({
        platform: this.platform,
        operation: 'identify',
        network: 'unparseable',
        description: `the identity lacks ${user ? source.tenant : source.user}`,
      });
    }
    return { userExternalId: user, tenantExternalId: tenant, displayName: source.name && textAt(claims, source.name), email: source.email && textAt(claims, source.email) };
  }

  /**
   * The claims of the ID token that came in this token answer. It came straight from the token
   * endpoint over the connection we opened, so OIDC Core §3.1.3.7 lets that connection stand for
   * the signature; the claims that bind it to us are still checked: `iss` (when known), `aud`
   * holding our client id (and `azp` when several audiences), and `exp`.
   */
  private idTokenClaims(idToken: string | undefined): Record<string, unknown> {
    const fail = (description: string) => new ProviderFailure({ platform: this.platform, operation: 'identify', network: 'unparseable', description });
    const payload = idToken?.split('.')[1];
    if (!payload) throw fail('the token answer has no ID token');
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw fail('the ID token is not a JWT');
    }
    if (!claims || typeof claims !== 'object') throw fail('the ID token is not a JWT');
    const c = claims as Record<string, unknown>;
    const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
    const issuer = this.discovered?.issuer;
    if (issuer !== undefined && c.iss !== issuer) throw fail('the ID token was issued by someone else');
    if (!audiences.includes(this.description.clientId) || (audiences.length > 1 && c.azp !== this.description.clientId)) throw fail('the ID token is for another client');
    if (typeof c.exp !== 'number' || c.exp * 1000 < Date.now() - 60_000) throw fail('the ID token has expired');
    return c;
  }

  /** RFC 6749 §5.2 `{error, error_description}`, REST `{message}`, and the platform's own code fields. */
  private failureOf(operation: Operation, answer: HttpResult): ProviderFailure {
    const base: FailureSignals = { platform: this.platform, operation, httpStatus: answer.status, retryAfterSeconds: retryAfterSeconds(answer.headers) };
    if (!answer.json || typeof answer.json !== 'object') return new ProviderFailure({ ...base, network: 'unparseable', description: 'non-JSON answer' });
    const json = answer.json as Record<string, unknown>;
    const code = this.description.failureCodeFields.map((name) => json[name]).find((v) => typeof v === 'string' || typeof v === 'number');
    const platformCode = code === undefined ? undefined : String(code);
    const description = field(json, 'error_description') ?? field(json, 'message') ?? platformCode;
    return new ProviderFailure({ ...base, error: field(json, 'error'), platformCode, description: trimDescription(description) });
  }
}

/** A string (or number) at a dotted JSON path: `sub`, `data.user.id`, `emails.0`. */
export function textAt(json: unknown, path: string): string | undefined {
  let value: unknown = json;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
