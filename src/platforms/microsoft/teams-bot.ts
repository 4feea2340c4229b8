import { Injectable, Logger } from '@nestjs/common';
import { isRecord } from '../../common/is-record';
import { AppConfig } from '../../config/app-config';
import type { Secret } from '../../vault/secret';
import { ErrorBody, sendFailure, unparseable } from '../bot-failure';
import { ADAPTIVE_CARD_CONTENT_TYPE, adaptiveCard, plainText } from '../bot-render';
import { BotTokenCache, clientCredentialsToken, withBotToken } from '../bot-token';
import { field, HttpResult, upstream } from '../http';
import { BotContext, BotMessage, BotRecipient, BotSender, ProviderFailure } from '../platform';
import { checkServiceUrl, ServiceUrlPolicy, serviceUrlPolicy } from './service-url';

/** The outbox reads a failure without status or network kind as permanent: a refused URL is not retried. */
export const SERVICE_URL_NOT_ALLOWED = 'service_url_not_allowed';

/** Bot Framework endpoints and constants (Bot Connector REST reference). */
const BOT_FRAMEWORK = {
  /** Under `$MICROSOFT_AUTHORITY_HOST`: the Bot Framework's own Entra tenant issues bot tokens. */
  tokenPath: '/botframework.com/oauth2/v2.0/token',
  scope: 'https://api.botframework.com/.default',
  conversations: 'v3/conversations',
  /** Teams prefixes a bot's app id with `28:` in channel accounts. */
  botIdPrefix: '28:',
} as const;

/** Connector errors read `{"error":{"code":"ConversationNotFound","message":"…"}}`. */
function connectorError(json: unknown): ErrorBody {
  const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
  return { platformCode: field(error, 'code'), description: field(error, 'message') };
}

/**
 * Teams DMs through the Bot Framework Connector: a proactive 1:1 conversation with the
 * member addressed by AAD object id, then an activity carrying an Adaptive Card.
 */
@Injectable()
export class TeamsBotSender implements BotSender {
  readonly platform = 'microsoft' as const;
  readonly enabled: boolean;
  /**
   * None: a Bot Framework token has the fixed audience api.botframework.com. What the bot
   * may do is set by the Teams app manifest (personal scope) the tenant installs, not by scopes.
   */
  readonly botScopes: readonly string[] = [];
  private readonly tokens: BotTokenCache;
  private readonly serviceUrls: ServiceUrlPolicy;
  private readonly log = new Logger('TeamsBot');

  constructor(private readonly config: AppConfig) {
    const { botAppId, botAppSecret, authorityHost, botServiceHosts, botServiceUrl } = config.microsoft;
    this.enabled = Boolean(botAppId && botAppSecret);
    this.serviceUrls = serviceUrlPolicy(botServiceHosts, botServiceUrl);
    this.tokens = new BotTokenCache(() =>
      clientCredentialsToken('microsoft', `${authorityHost}${BOT_FRAMEWORK.tokenPath}`, {
        form: { grant_type: 'client_credentials', client_id: botAppId ?? '', client_secret: botAppSecret ?? '', scope: BOT_FRAMEWORK.scope },
      }),
    );
  }

  async send(context: BotContext, recipient: BotRecipient, message: BotMessage): Promise<void> {
    if (!this.enabled)
      throw new ProviderFailure({
        platform: 'microsoft',
        operation: 'send',
        platformCode: 'bot_not_configured',
        description: 'MICROSOFT_BOT_APP_ID and MICROSOFT_BOT_APP_SECRET are not set',
      });
    const serviceUrl = context.serviceUrl ?? this.config.microsoft.botServiceUrl;
    if (!serviceUrl)
      throw new ProviderFailure({
        platform: 'microsoft',
        operation: 'send',
        platformCode: 'service_url_missing',
        description: 'the tenant has no bot serviceUrl and MICROSOFT_BOT_SERVICE_URL is not set',
      });
    // Service URLs are bases such as https://smba.trafficmanager.net/emea/: paths resolve below them.
    const base = this.allowed(serviceUrl.endsWith('/') ? serviceUrl : `${serviceUrl}/`);
    const conversationsUrl = new URL(BOT_FRAMEWORK.conversations, base).toString();

    const created = await this.post(conversationsUrl, {
      isGroup: false,
      bot: { id: `${BOT_FRAMEWORK.botIdPrefix}${this.config.microsoft.botAppId ?? ''}` },
      // Teams takes the AAD object id in place of a `29:` id for a personal-scope bot; both fields carry it.
      members: [{ id: recipient.userExternalId, aadObjectId: recipient.userExternalId }],
      tenantId: recipient.tenantExternalId,
      // Without the tenant Teams refuses a proactive conversation.
      channelData: { tenant: { id: recipient.tenantExternalId } },
    });
    const conversationId = field(created.json, 'id');
    if (!conversationId) throw unparseable('microsoft', created, 'conversation id');

    await this.post(`${conversationsUrl}/${encodeURIComponent(conversationId)}/activities`, {
      type: 'message',
      // `summary` is what channels that cannot render the card show, and the notification text.
      summary: plainText(message),
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: adaptiveCard(message) }],
      channelData: { tenant: { id: recipient.tenantExternalId } },
    });
  }

  /**
   * Every call is checked, not only the tenant's base: a row written before the rule, or by
   * SQL, must not receive the token, and a URL refused here costs no request at all (not
   * even the token fetch).
   */
  private async post(url: string, body: unknown): Promise<HttpResult> {
    const target = this.allowed(url).href;
    const result = await withBotToken(this.tokens, (token: Secret) =>
      upstream('microsoft', 'send', target, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.reveal()}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    if (result.status < 200 || result.status >= 300) throw sendFailure('microsoft', result, connectorError(result.json));
    return result;
  }

  /** The URL as parsed for the decision, so the host checked is the host called. */
  private allowed(url: string): URL {
    const check = checkServiceUrl(this.serviceUrls, url);
    if (check.allowed) return check.url;
    const description = `the tenant's bot serviceUrl ${check.reason}; the Bot Framework token is not sent there`;
    this.log.warn(`Teams DM not sent: ${description}`);
    throw new ProviderFailure({ platform: 'microsoft', operation: 'send', platformCode: SERVICE_URL_NOT_ALLOWED, description });
  }
}
