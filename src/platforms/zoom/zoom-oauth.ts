import type { AppConfig } from '../../config/app-config';
import { Secret } from '../../vault/secret';
import { field, HttpResult, retryAfterSeconds, trimDescription, upstream, UPSTREAM_TIMEOUT_MS } from '../http';
import { AuthorizeRequest, CodeExchangeRequest, FailureSignals, Identity, OAuthProvider, ProviderFailure, RefreshRequest, TokenSet } from '../platform';
import { tokenSetFromJson } from '../oauth2';
import { scopeCatalog } from '../scope-catalog';

type Operation = FailureSignals['operation'];

/**
 * Zoom user-level OAuth over `upstream()`: client authentication by HTTP Basic, refresh tokens
 * rotate on every refresh (the old one dies at once, so the new one must be stored before
 * anything else), revocation at `/oauth/revoke` ends the whole authorization.
 */
export class ZoomOAuth implements OAuthProvider {
  readonly platform = 'zoom' as const;
  readonly enabled: boolean;
  readonly requiredScopes: readonly string[];
  private readonly timeoutMs: number;

  constructor(
    private readonly config: AppConfig,
    options: { timeoutMs?: number } = {},
  ) {
    this.enabled = Boolean(config.zoom.clientId && config.zoom.clientSecret);
    this.requiredScopes = scopeCatalog('zoom').requiredScopes;
    this.timeoutMs = options.timeoutMs ?? UPSTREAM_TIMEOUT_MS;
  }

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(`${this.config.zoom.oauthUrl}/oauth/authorize`);
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: this.config.zoom.clientId,
      redirect_uri: request.redirectUri,
      state: request.state,
      // Zoom takes the app's configured scopes; naming them keeps the grant least-privilege and explicit.
      scope: this.requiredScopes.join(' '),
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

  async revoke(tokens: { accessToken?: Secret; refreshToken?: Secret }): Promise<void> {
    const token = tokens.accessToken ?? tokens.refreshToken;
    if (!token) return;
    const answer = await this.post('revoke', '/oauth/revoke', { token: token.reveal() });
    if (answer.status === 200) return;
    const failure = failureOf('revoke', answer);
    // "Invalid Token!" on revoke: the authorization is already gone.
    if (failure.signals.platformCode === 'Invalid Token!') return;
    throw failure;
  }

  private post(operation: Operation, path: string, form: Record<string, string>): Promise<HttpResult> {
    const basic = Buffer.from(`${this.config.zoom.clientId ?? ''}:${this.config.zoom.clientSecret ?? ''}`).toString('base64');
    return upstream('zoom', operation, `${this.config.zoom.oauthUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      timeoutMs: this.timeoutMs,
    });
  }

  /** `requested`: what the grant holds when the answer names no scopes (SPEC §8). */
  private async token(operation: Operation, requested: readonly string[], form: Record<string, string>): Promise<TokenSet> {
    const answer = await this.post(operation, '/oauth/token', form);
    const tokens = answer.status === 200 ? tokenSetFromJson(answer.json, requested, 'bearer') : undefined;
    if (!tokens) throw failureOf(operation, answer);
    return tokens;
  }

  private async identify(accessToken: Secret): Promise<Identity> {
    const answer = await upstream('zoom', 'identify', `${this.config.zoom.apiUrl}/users/me`, {
      headers: { authorization: `Bearer ${accessToken.reveal()}`, accept: 'application/json' },
      timeoutMs: this.timeoutMs,
    });
    const id = field(answer.json, 'id');
    const accountId = field(answer.json, 'account_id');
    if (answer.status !== 200 || !id || !accountId) throw failureOf('identify', answer);
    return { userExternalId: id, tenantExternalId: accountId, displayName: field(answer.json, 'display_name'), email: field(answer.json, 'email') };
  }
}

/** Token errors are `{reason, error}`; REST errors `{code, message}` (124: invalid access token). */
function failureOf(operation: Operation, answer: HttpResult): ProviderFailure {
  const base: FailureSignals = { platform: 'zoom', operation, httpStatus: answer.status, retryAfterSeconds: retryAfterSeconds(answer.headers) };
  if (!answer.json || typeof answer.json !== 'object') return new ProviderFailure({ ...base, network: 'unparseable', description: 'non-JSON answer' });
  const code = (answer.json as { code?: unknown }).code;
  const reason = field(answer.json, 'reason');
  const platformCode = reason ?? (typeof code === 'number' || typeof code === 'string' ? String(code) : undefined);
  const description = reason ?? field(answer.json, 'error_description') ?? field(answer.json, 'message');
  return new ProviderFailure({ ...base, error: field(answer.json, 'error'), platformCode, description: trimDescription(description) });
}
