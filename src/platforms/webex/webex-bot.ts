import { Injectable } from '@nestjs/common';
import { isRecord } from '../../common/is-record';
import { AppConfig } from '../../config/app-config';
import { BOT_AUTH_FAILED, ErrorBody, sendFailure } from '../bot-failure';
import { ADAPTIVE_CARD_CONTENT_TYPE, adaptiveCard, markdown, plainText } from '../bot-render';
import { field, upstream } from '../http';
import { BotContext, BotMessage, BotRecipient, BotSender, ProviderFailure } from '../platform';

/**
 * Webex REST errors read `{"message":"…","errors":[{"description":"…"}],"trackingId":"…"}`:
 * no machine code, so the message and the tracking id (what Webex support asks for) are kept.
 */
function webexError(json: unknown): ErrorBody {
  const message = field(json, 'message');
  const trackingId = field(json, 'trackingId');
  const code = isRecord(json) ? json.code : undefined;
  return {
    platformCode: typeof code === 'string' || typeof code === 'number' ? String(code) : undefined,
    description: message && trackingId ? `${message} (trackingId ${trackingId})` : message,
  };
}

/** Webex DMs from the bot account: `POST /messages` with markdown and an Adaptive Card. */
@Injectable()
export class WebexBotSender implements BotSender {
  readonly platform = 'webex' as const;
  readonly enabled: boolean;
  /** The scopes a Webex bot account holds (SPEC §8); sending a DM needs only the first. */
  readonly botScopes: readonly string[] = [
    'spark:messages_read', // read the replies people send the bot in its 1:1 spaces
    'spark:people_read', // look up a person by id or e-mail before writing to them
    'spark:teams_read', // see the teams the bot was added to
    'spark:rooms_read', // list and read the 1:1 spaces the DMs live in
    'spark:memberships_write', // join or leave spaces it is asked into
    'spark-admin:organizations_read', // read the org a person belongs to, to match the tenant
  ];

  constructor(private readonly config: AppConfig) {
    this.enabled = Boolean(config.webex.botToken);
  }

  async send(_context: BotContext, recipient: BotRecipient, message: BotMessage): Promise<void> {
    const botToken = this.config.webex.botToken;
    if (!botToken) throw new ProviderFailure({ platform: 'webex', operation: 'send', platformCode: 'bot_not_configured', description: 'WEBEX_BOT_TOKEN is not set' });
    // An e-mail reaches the person even when the bot has never met their person id.
    const to = recipient.email ? { toPersonEmail: recipient.email } : { toPersonId: recipient.userExternalId };
    const result = await upstream('webex', 'send', `${this.config.webex.apiUrl}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${botToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        ...to,
        // `text` is the fallback for clients that render neither markdown nor cards.
        text: plainText(message),
        markdown: markdown(message),
        attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: adaptiveCard(message) }],
      }),
    });
    if (result.status >= 200 && result.status < 300) return;
    const error = webexError(result.json);
    // The bot token is static configuration: a 401 means our credential is wrong, not the customer's.
    throw sendFailure('webex', result, result.status === 401 ? { ...error, platformCode: BOT_AUTH_FAILED } : error);
  }
}
