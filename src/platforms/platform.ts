import type { Platform } from '../config/app-config';
import type { Secret } from '../vault/secret';
import type { SignalTable } from './classify';
import type { PlatformScopes } from './scope-catalog';

/**
 * The contracts every platform implements. Platforms know nothing of the database, the
 * vault or heal: they take plaintext credentials (`Secret`) as arguments and return
 * results or throw a `ProviderFailure`.
 */

export interface TokenSet {
  accessToken: Secret;
  /** Absent when the platform did not return one: keep the current refresh token. */
  refreshToken?: Secret;
  accessTokenExpiresAt: Date;
  /**
   * Known from the wire (`refresh_token_expires_in`, which Webex sends on every answer) or the
   * platform's documented lifetime (Microsoft: MICROSOFT_REFRESH_TOKEN_LIFETIME_MS). None is
   * assumed otherwise: Slack's rotating refresh tokens do not expire on a schedule, and Zoom's
   * own pages disagree (15 years, or 90 days), so a dead Zoom grant is `grant_revoked` unless
   * an expiry came from the wire.
   */
  refreshTokenExpiresAt?: Date;
  /**
   * The scopes the grant holds after this answer (SPEC §8, `grantedScopes` in oauth2.ts): the
   * answer's `scope` member when it has one, else the scopes requested (code exchange) or the
   * ones stored for the grant (refresh). Never empty just because the platform said nothing.
   */
  scopes: string[];
  /** False when the answer had no `scope` member, so `scopes` come from the request or the stored grant. */
  scopesStated: boolean;
  tokenType: string;
}

/** Who completed OAuth (SPEC §9): the connection's natural key comes from here. */
export interface Identity {
  userExternalId: string;
  tenantExternalId: string;
  displayName?: string;
  email?: string;
}

export interface AuthorizeRequest {
  state: string;
  /** PKCE S256 challenge of the verifier kept server-side. */
  codeChallenge: string;
  redirectUri: string;
  /** Microsoft: the Entra tenant id to sign in to (else `organizations`). */
  tenantExternalId?: string;
  /** A user id or e-mail to pre-fill, when the link named a user. */
  loginHint?: string;
}

export interface CodeExchangeRequest {
  code: string;
  codeVerifier: string;
  redirectUri: string;
  tenantExternalId?: string;
}

export interface RefreshRequest {
  refreshToken: Secret;
  tenantExternalId: string;
  userExternalId: string;
  /** The scopes granted so far: Microsoft asks for them again, and an answer without `scope` keeps them. */
  scopes: string[];
}

export interface OAuthProvider {
  readonly platform: Platform;
  /** How pages name it: "Microsoft Teams", or a generic provider's `displayName`. */
  readonly displayName: string;
  /** False when the platform has no credentials configured. */
  readonly enabled: boolean;
  /** The scopes a user connection requests, least privilege (the scope catalog). */
  readonly requiredScopes: readonly string[];
  /** Its scope catalog and how it reports grants (scope drift reads these). */
  readonly scopes: PlatformScopes;
  /** Its failure table (SPEC §3). */
  readonly signals: SignalTable;
  /** Who carries its prompts: its bot, or §11 events only (a generic provider has no bot). */
  readonly prompts: 'bot' | 'events';
  /** Resolves once the provider can build an authorize URL (a generic one reads its issuer's discovery document). */
  ready?(): Promise<void>;
  authorizeUrl(request: AuthorizeRequest): string;
  exchangeCode(request: CodeExchangeRequest): Promise<{ tokens: TokenSet; identity: Identity }>;
  refresh(request: RefreshRequest): Promise<TokenSet>;
  /** Revokes upstream where the platform allows it; resolves when done or not supported. */
  revoke(tokens: { accessToken?: Secret; refreshToken?: Secret }): Promise<void>;
}

/** A bot message: the same content is rendered as Slack blocks, an Adaptive Card, etc. */
export interface BotMessage {
  /** One line, e.g. "Your Slack connection needs attention". */
  title: string;
  /** Plain text paragraphs (no markup): what happened and what to do. */
  lines: string[];
  /** The one button, e.g. a re-sync link. */
  action?: { label: string; url: string };
}

export interface BotRecipient {
  userExternalId: string;
  tenantExternalId: string;
  email?: string;
}

/** A tenant's bot settings, secrets opened by the caller. */
export interface BotContext {
  /** microsoft: the tenant's Bot Framework service URL. */
  serviceUrl?: string;
  /** slack: the tenant's bot token. */
  botToken?: Secret;
  /** zoom: the account id. */
  accountId?: string;
}

export interface BotSender {
  readonly platform: Platform;
  readonly enabled: boolean;
  readonly botScopes: readonly string[];
  /** Delivers one DM; throws `ProviderFailure` (transient ones are retried by the outbox). */
  send(context: BotContext, recipient: BotRecipient, message: BotMessage): Promise<void>;
}

/** The raw signals of a failed upstream call, for the classifier. Never holds a token. */
export interface FailureSignals {
  platform: Platform;
  /** Which call failed. */
  operation: 'authorize' | 'exchange' | 'refresh' | 'revoke' | 'identify' | 'send';
  httpStatus?: number;
  /** OAuth `error` (invalid_grant, interaction_required, …). */
  error?: string;
  /** Microsoft `error_codes` / AADSTS number (first), from `errorNo` or the description. */
  aadsts?: number;
  suberror?: string;
  /** Slack `error`, Zoom `reason`, Webex/Zoom REST `code`: the platform's own code. */
  platformCode?: string;
  /** `error_description` or message, trimmed to 300 characters; never contains a token. */
  description?: string;
  /** Seconds from a `Retry-After` header. */
  retryAfterSeconds?: number;
  /** A failure below HTTP: no status to read. */
  network?: 'timeout' | 'reset' | 'connection' | 'unparseable';
}

export class ProviderFailure extends Error {
  override name = 'ProviderFailure';
  constructor(readonly signals: FailureSignals) {
    super(
      `${signals.platform} ${signals.operation} failed: ${
        [signals.httpStatus, signals.error, signals.aadsts && `AADSTS${signals.aadsts}`, signals.suberror, signals.platformCode, signals.network].filter(Boolean).join(' ') ||
        'unknown'
      }`,
    );
  }
}
