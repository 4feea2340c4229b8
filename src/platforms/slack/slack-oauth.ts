import { ErrorCode, LogLevel, OAuthV2AccessArguments, OauthV2AccessResponse, WebClient } from '@slack/web-api';
import type { AppConfig } from '../../config/app-config';
import { Secret } from '../../vault/secret';
import { describeError, networkKind, UPSTREAM_TIMEOUT_MS } from '../http';
import { grantedScopes, statedScopes } from '../oauth2';
import { AuthorizeRequest, CodeExchangeRequest, FailureSignals, Identity, OAuthProvider, ProviderFailure, RefreshRequest, TokenSet } from '../platform';
import { scopeCatalog } from '../scope-catalog';
import { SLACK_SCOPES } from './slack-scopes';
import { SLACK_SIGNALS } from './slack-signals';

type Operation = FailureSignals['operation'];

/** A Slack error code: lower-case words joined by `_` (anything else is a body we could not read). */
const SLACK_CODE = /^[a-z0-9_]{1,80}$/;

/** auth.revoke answers these when the token is already gone: nothing left to revoke. */
const ALREADY_REVOKED = new Set(['token_revoked', 'invalid_auth', 'token_expired', 'account_inactive', 'not_authed']);

/**
 * Slack user tokens with token rotation, through @slack/web-api.
 *
 * The SDK would otherwise retry for about 30 minutes and sit out rate limits inside the call; the
 * service has its own backoff (SPEC §3), so: no retries, rate-limited calls rejected at once,
 * and the 10 s upstream timeout.
 *
 * PKCE: oauth.v2.access documents a `code_verifier` argument ("Used for PKCE"), so the authorize
 * URL carries the S256 challenge and the exchange the verifier, as on the other platforms.
 */
export class SlackOAuth implements OAuthProvider {
  readonly platform = 'slack' as const;
  readonly displayName = 'Slack';
  readonly scopes = SLACK_SCOPES;
  readonly signals = SLACK_SIGNALS;
  readonly prompts = 'bot' as const;
  readonly enabled: boolean;
  readonly requiredScopes: readonly string[];
  private readonly client: WebClient;

  constructor(
    private readonly config: AppConfig,
    options: { timeoutMs?: number } = {},
  ) {
    this.enabled = Boolean(config.slack.clientId && config.slack.clientSecret);
    this.requiredScopes = scopeCatalog('slack').requiredScopes;
    this.client = new WebClient(undefined, {
      slackApiUrl: config.slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? UPSTREAM_TIMEOUT_MS,
      logLevel: LogLevel.ERROR,
    });
  }

  authorizeUrl(request: AuthorizeRequest): string {
    const url = new URL(this.config.slack.authorizeUrl);
    const params: Record<string, string | undefined> = {
      client_id: this.config.slack.clientId,
      user_scope: this.requiredScopes.join(','),
      redirect_uri: request.redirectUri,
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      // Pre-selects the workspace when the link named one.
      team: request.tenantExternalId,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<{ tokens: TokenSet; identity: Identity }> {
    // code_verifier is documented by Slack but missing from the SDK's argument type.
    const args: OAuthV2AccessArguments & { code_verifier: string } = {
      ...this.credentials(),
      code: request.code,
      redirect_uri: request.redirectUri,
      code_verifier: request.codeVerifier,
    };
    const answer = await this.access('exchange', args);
    const user = answer.authed_user;
    if (!user?.access_token || !user.id || !answer.team?.id) {
      throw new ProviderFailure({ platform: 'slack', operation: 'exchange', error: 'no_user_token', description: 'oauth.v2.access returned no user token or identity' });
    }
    const tokens = tokenSet(user.access_token, user.refresh_token, user.expires_in, grantedScopes(statedScopes(user.scope), this.requiredScopes), user.token_type);
    return { tokens, identity: { userExternalId: user.id, tenantExternalId: answer.team.id } };
  }

  async refresh(request: RefreshRequest): Promise<TokenSet> {
    const answer = await this.access('refresh', { ...this.credentials(), grant_type: 'refresh_token', refresh_token: request.refreshToken.reveal() });
    if (!answer.access_token) {
      throw new ProviderFailure({ platform: 'slack', operation: 'refresh', error: 'no_access_token', description: 'refresh answer without access_token' });
    }
    // Rotation: the answer's refresh token replaces the one just used, which is now dead.
    return tokenSet(answer.access_token, answer.refresh_token, answer.expires_in, grantedScopes(statedScopes(answer.scope), request.scopes), answer.token_type);
  }

  /** auth.revoke of the user token also ends its refresh tokens. */
  async revoke(tokens: { accessToken?: Secret; refreshToken?: Secret }): Promise<void> {
    if (!tokens.accessToken) return;
    try {
      await this.client.auth.revoke({ token: tokens.accessToken.reveal() });
    } catch (error) {
      const failure = failureOf('revoke', error);
      if (failure.signals.platformCode && ALREADY_REVOKED.has(failure.signals.platformCode)) return;
      throw failure;
    }
  }

  private credentials(): { client_id: string; client_secret: string } {
    return { client_id: this.config.slack.clientId ?? '', client_secret: this.config.slack.clientSecret ?? '' };
  }

  private async access(operation: Operation, args: OAuthV2AccessArguments): Promise<OauthV2AccessResponse> {
    try {
      return await this.client.oauth.v2.access(args);
    } catch (error) {
      throw failureOf(operation, error);
    }
  }
}

function tokenSet(
  access: string,
  refresh: string | undefined,
  expiresIn: number | undefined,
  granted: Pick<TokenSet, 'scopes' | 'scopesStated'>,
  tokenType: string | undefined,
): TokenSet {
  return {
    accessToken: new Secret(access),
    refreshToken: refresh ? new Secret(refresh) : undefined,
    // Without rotation Slack tokens do not expire; a year stands in for "not soon".
    accessTokenExpiresAt: new Date(Date.now() + (expiresIn ?? 365 * 86_400) * 1000),
    ...granted,
    tokenType: tokenType ?? 'user',
  };
}

/** The SDK's four error kinds → signals. Slack bodies never echo tokens, but we keep codes only. */
function failureOf(operation: Operation, error: unknown): ProviderFailure {
  const base: FailureSignals = { platform: 'slack', operation };
  const coded = error as { code?: unknown };
  switch (coded.code) {
    case ErrorCode.PlatformError: {
      const code = (error as { data?: { error?: unknown } }).data?.error;
      // A 200 whose body is not JSON arrives as a platform error carrying the raw text.
      if (typeof code !== 'string' || !SLACK_CODE.test(code)) return new ProviderFailure({ ...base, network: 'unparseable', description: 'non-JSON answer' });
      return new ProviderFailure({ ...base, platformCode: code });
    }
    case ErrorCode.RateLimitedError:
      return new ProviderFailure({ ...base, httpStatus: 429, platformCode: 'ratelimited', retryAfterSeconds: (error as { retryAfter?: number }).retryAfter });
    case ErrorCode.HTTPError: {
      const http = error as { statusCode?: number; headers?: Record<string, string> };
      const retryAfter = Number(http.headers?.['retry-after']);
      return new ProviderFailure({ ...base, httpStatus: http.statusCode, retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined });
    }
    case ErrorCode.RequestError: {
      const original = (error as { original?: unknown }).original;
      return new ProviderFailure({ ...base, network: networkKind(original), description: describeError(original) });
    }
    default:
      // The SDK throws a plain Error for a 429 without a usable Retry-After.
      if (error instanceof Error && /rate limit|retry header/i.test(error.message)) return new ProviderFailure({ ...base, httpStatus: 429, platformCode: 'ratelimited' });
      return new ProviderFailure({ ...base, network: 'connection', description: describeError(error) });
  }
}
