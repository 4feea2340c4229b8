import type { AppConfig } from '../../config/app-config';
import { Secret } from '../../vault/secret';
import { field, HttpResult, retryAfterSeconds, trimDescription, upstream, UPSTREAM_TIMEOUT_MS } from '../http';
import { AuthorizeRequest, CodeExchangeRequest, FailureSignals, Identity, OAuthProvider, ProviderFailure, RefreshRequest, TokenSet } from '../platform';
import { tokenSetFromJson } from '../oauth2';
import { scopeCatalog } from '../scope-catalog';

type Operation = FailureSignals['operation'];

/**
 * A Webex integration (RFC 6749 over `upstream()`): client id and secret go in the form body,
 * the refresh token comes back unchanged with its remaining lifetime (`refresh_token_expires_in`),
 * which is what tells an inactive grant from a revoked one. Its token answers carry no `scope` and
 * no `token_type` (https://developer.webex.com/docs/integrations): the grant is what was asked
 * for, and the token a bearer token.
 */
export class WebexOAuth implements OAuthProvider {
  readonly platform = 'webex' as const;
  readonly enabled: boolean;
  readonly requiredScopes: readonly string[];
  private readonly timeoutMs: number;

  constructor(
    private readonly config: AppConfig,
    options: { timeoutMs?: number } = {},
  ) {
    this.enabled = Boolean(config.webex.clientId && config.webex.clientSecret);
    this.requiredScopes = scopeCatalog('webex').requiredScopes;
    this.timeoutMs = options.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
  }

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(`${this.config.webex.apiUrl}/authorize`);
    const params: Record<string, string | undefined> = {
      client_id: this.config.webex.clientId,
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: this.requiredScopes.join(' '),
      state: request.state,
      // Webex integrations accept PKCE (S256) on the authorization code grant.
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<{ tokens: TokenSet; identity: Identity }> {
    const tokens = await this.token('exchange', this.requiredScopes, {
      grant_type: 'authorization_code',
      code: request.code,
      redirect_uri: request.redirectUri,
      code_verifier: request.codeVerifier,
    });
    return { tokens, identity: await this.identify(tokens.accessToken) };
  }

  refresh(request: RefreshRequest): Promise<TokenSet> {
    return this.token('refresh', request.scopes, { grant_type: 'refresh_token', refresh_token: request.refreshToken.reveal() });
  }

  /** Webex has no endpoint for an integration to revoke a user's grant; the user removes it in Webex. */
  async revoke(): Promise<void> {}

  /** `requested`: what the grant holds when the answer names no scopes (SPEC §8). */
  private async token(operation: Operation, requested: readonly string[], form: Record<string, string>): Promise<TokenSet> {
    const body = new URLSearchParams({ ...form, client_id: this.config.webex.clientId ?? '', client_secret: this.config.webex.clientSecret ?? '' });
    const answer = await upstream('webex', operation, `${this.config.webex.apiUrl}/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      timeoutMs: this.timeoutMs,
    });
    const tokens = answer.status === 200 ? tokenSetFromJson(answer.json, requested) : undefined;
    if (!tokens) throw failureOf(operation, answer);
    return tokens;
  }

  private async identify(accessToken: Secret): Promise<Identity> {
    const answer = await upstream('webex', 'identify', `${this.config.webex.apiUrl}/people/me`, {
      headers: { authorization: `Bearer ${accessToken.reveal()}`, accept: 'application/json' },
      timeoutMs: this.timeoutMs,
    });
    const id = field(answer.json, 'id');
    const orgId = field(answer.json, 'orgId');
    if (answer.status !== 200 || !id || !orgId) throw failureOf('identify', answer);
    const emails = answer.json && typeof answer.json === 'object' ? (answer.json as { emails?: unknown }).emails : undefined;
    return {
      userExternalId: id,
      tenantExternalId: orgId,
      displayName: field(answer.json, 'displayName'),
      email: Array.isArray(emails) && typeof emails[0] === 'string' ? emails[0] : undefined,
    };
  }
}

/** Token errors are RFC 6749 `{error, error_description, trackingId}`; REST errors `{message, errors}`. */
function failureOf(operation: Operation, answer: HttpResult): ProviderFailure {
  const base: FailureSignals = { platform: 'webex', operation, httpStatus: answer.status, retryAfterSeconds: retryAfterSeconds(answer.headers) };
  if (!answer.json || typeof answer.json !== 'object') return new ProviderFailure({ ...base, network: 'unparseable', description: 'non-JSON answer' });
  const description = field(answer.json, 'error_description') ?? field(answer.json, 'message');
  return new ProviderFailure({ ...base, error: field(answer.json, 'error'), description: trimDescription(description) });
}
