import { Injectable } from '@nestjs/common';
import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { isRecord } from '../../common/is-record';
import { AppConfig } from '../../config/app-config';
import { slackBlocks, slackText } from '../bot-render';
import { describeError, networkKind, retryAfterSeconds, trimDescription, UPSTREAM_TIMEOUT_MS } from '../http';
import { BotContext, BotMessage, BotRecipient, BotSender, FailureSignals, ProviderFailure } from '../platform';

/** What the last HTTP answer said, for errors the SDK raises without a status (a 429 lacking Retry-After). */
interface LastAnswer {
  status: number;
  headers: Headers;
}

/**
 * Slack DMs with the tenant's bot token: `conversations.open` for the user's IM channel,
 * then `chat.postMessage` with Block Kit. The SDK's own retries are off: the outbox owns
 * retrying, with the backoff and the Retry-After it reads from our `ProviderFailure`.
 */
@Injectable()
export class SlackBotSender implements BotSender {
  readonly platform = 'slack' as const;
  /** Always: the bot token is per workspace, in each tenant's bot settings. */
  readonly enabled = true;
  readonly botScopes: readonly string[] = [
    'chat:write', // post the prompt (chat.postMessage) in the bot's DM with the person
    'im:write', // open that DM (conversations.open)
    'users:read', // resolve admins and users by Slack user id
    'users:read.email', // match people by e-mail when a tenant lists admins that way
  ];

  constructor(private readonly config: AppConfig) {}

  async send(context: BotContext, recipient: BotRecipient, message: BotMessage): Promise<void> {
    if (!context.botToken) {
      // Slack's own code for a call without a token: permanent until an admin sets the tenant's bot token.
      throw new ProviderFailure({ platform: 'slack', operation: 'send', platformCode: 'not_authed', description: 'the tenant has no Slack bot token' });
    }
    let last: LastAnswer | undefined;
    // A client costs tens of microseconds; one per send keeps no bot token in a long-lived map.
    const client = new WebClient(context.botToken.reveal(), {
      slackApiUrl: this.config.slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: UPSTREAM_TIMEOUT_MS,
      logLevel: LogLevel.ERROR,
      fetch: async (url, init) => {
        last = undefined;
        // A redirect is never followed (SPEC §8): the bot token must not travel to a Location we did not choose.
        const response = await fetch(url, { ...init, redirect: 'manual' });
        last = { status: response.status, headers: response.headers };
        return response;
      },
    });
    try {
      const opened = await client.conversations.open({ users: recipient.userExternalId });
      const channel = opened.channel?.id;
      if (!channel)
        throw new ProviderFailure({ platform: 'slack', operation: 'send', httpStatus: last?.status, network: 'unparseable', description: 'no channel id from conversations.open' });
      await client.chat.postMessage({
        channel,
        text: slackText(message),
        blocks: slackBlocks(message),
        // An unfurl would make Slack fetch the (single-use) re-sync link and post a preview of it.
        unfurl_links: false,
        unfurl_media: false,
      });
    } catch (error) {
      throw slackFailure(error, last);
    }
  }
}

function slackFailure(error: unknown, last: LastAnswer | undefined): ProviderFailure {
  if (error instanceof ProviderFailure) return error;
  const base: FailureSignals = { platform: 'slack', operation: 'send' };
  if (error instanceof WebAPIPlatformError) {
    // HTTP 200 with {"ok":false,"error":"…"}; response_metadata.messages explains e.g. invalid_blocks.
    const messages = error.data.response_metadata?.messages;
    const description = Array.isArray(messages) ? messages.join('; ') : undefined;
    return new ProviderFailure({
      ...base,
      httpStatus: last?.status,
      platformCode: error.data.error,
      description: trimDescription(description),
      retryAfterSeconds: last && retryAfterSeconds(last.headers),
    });
  }
  if (error instanceof WebAPIRateLimitedError) {
    // `ratelimited` is the code Slack puts in the body of every 429.
    return new ProviderFailure({ ...base, httpStatus: 429, platformCode: 'ratelimited', retryAfterSeconds: error.retryAfter });
  }
  if (error instanceof WebAPIHTTPError) {
    const body: unknown = typeof error.body === 'string' ? parseJson(error.body) : error.body;
    const platformCode = isRecord(body) && typeof body.error === 'string' ? body.error : undefined;
    return new ProviderFailure({
      ...base,
      httpStatus: error.statusCode,
      platformCode,
      description: trimDescription(platformCode ? undefined : typeof error.body === 'string' ? error.body : error.statusMessage),
      retryAfterSeconds: retryAfterSeconds(new Headers(error.headers)),
    });
  }
  if (error instanceof WebAPIRequestError) {
    return new ProviderFailure({ ...base, network: networkKind(error.original), description: describeError(error.original) });
  }
  // The SDK raises a plain Error for a 429 without a usable Retry-After, among others.
  return new ProviderFailure({
    ...base,
    httpStatus: last?.status,
    platformCode: last?.status === 429 ? 'ratelimited' : undefined,
    description: trimDescription(error instanceof Error ? error.message : String(error)),
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
