import { Injectable } from '@nestjs/common';
import { isRecord } from '../../common/is-record';
import { AppConfig } from '../../config/app-config';
import type { Secret } from '../../vault/secret';
import { ErrorBody, sendFailure } from '../bot-failure';
import { zoomContent } from '../bot-render';
import { BotTokenCache, clientCredentialsToken, withBotToken } from '../bot-token';
import { field, upstream } from '../http';
import { BotContext, BotMessage, BotRecipient, BotSender, ProviderFailure } from '../platform';

/** Zoom Team Chat chatbot API (Chatbot reference: "Send chatbot messages"). */
const ZOOM_CHATBOT = {
  tokenPath: '/oauth/token',
  messagesPath: '/im/chat/messages',
  /** A user's chat JID is their user id, lower-cased, at this domain. */
  jidDomain: 'xmpp.zoom.us',
} as const;

/** Zoom REST errors read `{"code":124,"message":"Invalid access token."}`. */
function zoomError(json: unknown): ErrorBody {
  const code = isRecord(json) ? json.code : undefined;
  return { platformCode: typeof code === 'number' || typeof code === 'string' ? String(code) : undefined, description: field(json, 'message') };
}

/** Zoom DMs from the chatbot, with a `client_credentials` token of the same Zoom app. */
@Injectable()
export class ZoomBotSender implements BotSender {
  readonly platform = 'zoom' as const;
  readonly enabled: boolean;
  readonly botScopes: readonly string[] = [
    'imchat:bot', // send chatbot messages (POST /im/chat/messages) as the app's chatbot
  ];
  private readonly tokens: BotTokenCache;

  constructor(private readonly config: AppConfig) {
    const { clientId, clientSecret, oauthUrl, botJid } = config.zoom;
    this.enabled = Boolean(clientId && clientSecret && botJid);
    // Zoom documents plain base64 of `id:secret` (no form-encoding first).
    const basic = Buffer.from(`${clientId ?? ''}:${clientSecret ?? ''}`).toString('base64');
    this.tokens = new BotTokenCache(() =>
      clientCredentialsToken('zoom', `${oauthUrl}${ZOOM_CHATBOT.tokenPath}`, {
        headers: { authorization: `Basic ${basic}` },
        form: { grant_type: 'client_credentials' },
      }),
    );
  }

  async send(context: BotContext, recipient: BotRecipient, message: BotMessage): Promise<void> {
    const botJid = this.config.zoom.botJid;
    if (!this.enabled || !botJid)
      throw new ProviderFailure({
        platform: 'zoom',
        operation: 'send',
        platformCode: 'bot_not_configured',
        description: 'ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET and ZOOM_BOT_JID must be set',
      });
    // The chatbot may DM only the tenant's own account (SPEC §8); a row that says otherwise was not written by the API.
    if (context.accountId !== undefined && context.accountId !== recipient.tenantExternalId) {
      throw new ProviderFailure({ platform: 'zoom', operation: 'send', platformCode: 'account_mismatch', description: "the tenant's bot accountId is not its externalId" });
    }
    const body = JSON.stringify({
      robot_jid: botJid,
      to_jid: `${recipient.userExternalId.toLowerCase()}@${ZOOM_CHATBOT.jidDomain}`,
      account_id: recipient.tenantExternalId,
      // Off, as Zoom's default: the text fields then show outside strings literally, never as links or @mentions.
      is_markdown_support: false,
      content: zoomContent(message),
    });
    const url = `${this.config.zoom.apiUrl}${ZOOM_CHATBOT.messagesPath}`;
    const result = await withBotToken(this.tokens, (token: Secret) =>
      upstream('zoom', 'send', url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.reveal()}`, 'content-type': 'application/json', accept: 'application/json' },
        body,
      }),
    );
    if (result.status < 200 || result.status >= 300) throw sendFailure('zoom', result, zoomError(result.json));
  }
}
