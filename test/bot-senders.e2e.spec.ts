import { randomUUID } from 'node:crypto';
import { botConnectorError, Sandbox, slackError, SandboxPlatform, startSandbox, StatusFailure, webexApiError, zoomApiError } from '../sandbox';
import { AppConfig } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { TeamsBotSender } from '../src/platforms/microsoft/teams-bot';
import { BotContext, BotMessage, BotRecipient, BotSender, ProviderFailure } from '../src/platforms/platform';
import { SlackBotSender } from '../src/platforms/slack/slack-bot';
import { WebexBotSender } from '../src/platforms/webex/webex-bot';
import { ZoomBotSender } from '../src/platforms/zoom/zoom-bot';
import { Secret } from '../src/vault/secret';

/** One person on one platform, as the service would address them, and as the sandbox records them. */
interface Addressee {
  context: BotContext;
  recipient: BotRecipient;
  recordedAs: string;
}

/** What each platform needs in these tests: its sender, a person to DM, its rate-limit and error bodies. */
interface Harness {
  platform: SandboxPlatform;
  sender(config: AppConfig): BotSender;
  person(): Addressee;
  failure(status: number, retryAfter?: number): StatusFailure;
}

let sb: Sandbox;
let config: AppConfig;

const withRetryAfter = (failure: StatusFailure, retryAfter?: number): StatusFailure =>
  retryAfter === undefined ? failure : { ...failure, headers: { ...failure.headers, 'retry-after': String(retryAfter) } };

const HARNESSES: Harness[] = [
  {
    platform: 'microsoft',
    sender: (c) => new TeamsBotSender(c),
    person: () => {
      const user = sb.control.addUser('microsoft', { tenantExternalId: randomUUID(), userExternalId: randomUUID() });
      return {
        context: { serviceUrl: sb.env.MICROSOFT_BOT_SERVICE_URL },
        recipient: { userExternalId: user.userExternalId, tenantExternalId: user.tenantExternalId },
        recordedAs: user.userExternalId,
      };
    },
    failure: (status, retryAfter) => withRetryAfter(botConnectorError(status, status === 429 ? 'Throttled' : 'ServiceError', 'Try again later.'), retryAfter),
  },
  {
    platform: 'slack',
    sender: (c) => new SlackBotSender(c),
    person: () => {
      const teamId = `T${randomUUID().slice(0, 8).toUpperCase()}`;
      const user = sb.control.addUser('slack', { tenantExternalId: teamId, userExternalId: `U${randomUUID().slice(0, 10).toUpperCase()}` });
      return {
        context: { botToken: new Secret(sb.control.slackBotToken(teamId)) },
        recipient: { userExternalId: user.userExternalId, tenantExternalId: teamId },
        recordedAs: user.userExternalId,
      };
    },
    failure: (status, retryAfter) => (status === 429 ? slackError('ratelimited', retryAfter) : { status, body: 'upstream connect error' }),
  },
  {
    platform: 'webex',
    sender: (c) => new WebexBotSender(c),
    person: () => {
      const user = sb.control.addUser('webex', { tenantExternalId: randomUUID(), userExternalId: `Y2lzY29zcGFyazovL3VzL1BFT1BMRS8${randomUUID()}` });
      return { context: {}, recipient: { userExternalId: user.userExternalId, tenantExternalId: user.tenantExternalId }, recordedAs: user.userExternalId };
    },
    failure: (status, retryAfter) => withRetryAfter(webexApiError(status, status === 429 ? 'Too Many Requests' : 'Internal Server Error'), retryAfter),
  },
  {
    platform: 'zoom',
    sender: (c) => new ZoomBotSender(c),
    person: () => {
      // Zoom user ids are mixed case; their chat JIDs are lower case.
      const user = sb.control.addUser('zoom', { tenantExternalId: `acct${randomUUID().slice(0, 8)}`, userExternalId: `KdYKjnimT4KPd8${randomUUID().slice(0, 6).toUpperCase()}` });
      return {
        context: { accountId: user.tenantExternalId },
        recipient: { userExternalId: user.userExternalId, tenantExternalId: user.tenantExternalId },
        recordedAs: user.userExternalId.toLowerCase(),
      };
    },
    failure: (status, retryAfter) => withRetryAfter(zoomApiError(status, status === 429 ? 429 : 500, status === 429 ? 'Too many requests.' : 'Internal error.'), retryAfter),
  },
];

function prompt(): BotMessage {
  return {
    title: 'Your connection needs attention <R&D> *now*',
    lines: ['Your sign-in expired after a password change.', 'Re-connect to keep messages flowing.'],
    action: { label: 'Re-connect', url: `https://autoheal.example/connect/${randomUUID()}` },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderFailure);
  return error as ProviderFailure;
}

beforeAll(async () => {
  sb = await startSandbox();
  config = loadConfig(sb.env);
});
afterAll(() => sb.close());
beforeEach(() => sb.control.reset());

describe.each(HARNESSES)('$platform bot sender', (h) => {
  it('delivers a DM to the person with the title, the text and the action link', async () => {
    const sender = h.sender(config);
    const { context, recipient, recordedAs } = h.person();
    const message = prompt();
    expect(sender.enabled).toBe(true);
    await sender.send(context, recipient, message);
    const received = sb.control.messages(h.platform, recordedAs);
    expect(received).toHaveLength(1);
    expect(sb.control.messages(h.platform)).toHaveLength(1);
    expect(received[0].text).toContain('Your connection needs attention');
    expect(received[0].text).toContain('Re-connect to keep messages flowing.');
    expect(received[0].links).toContain(message.action?.url);
  });

  it.each([
    { name: '429 with Retry-After', failure: () => h.failure(429, 7), expected: { httpStatus: 429, retryAfterSeconds: 7 } },
    { name: '500', failure: () => h.failure(500), expected: { httpStatus: 500 } },
    { name: 'a reset socket', failure: () => ({ reset: true as const }), expected: { network: 'reset' } },
  ])('turns $name into a ProviderFailure with its signals', async ({ failure, expected }) => {
    const sender = h.sender(config);
    const { context, recipient } = h.person();
    sb.control.failMessages(h.platform, failure(), 1);
    const error = await failureOf(sender.send(context, recipient, prompt()));
    expect(error.signals).toMatchObject({ platform: h.platform, operation: 'send', ...expected });
    // The next send goes through: nothing was left broken by the failure.
    await sender.send(context, recipient, prompt());
    expect(sb.control.messages(h.platform)).toHaveLength(1);
  });
});

describe.each([
  { platform: 'microsoft' as const, sender: (c: AppConfig) => new TeamsBotSender(c), harness: HARNESSES[0] },
  { platform: 'zoom' as const, sender: (c: AppConfig) => new ZoomBotSender(c), harness: HARNESSES[3] },
])('$platform bot token', ({ platform, sender: make, harness }) => {
  const tokenCalls = () => sb.control.tokenCalls(platform, { grantType: 'client_credentials' });

  it('is fetched once for several sends', async () => {
    const sender = make(config);
    for (let i = 0; i < 3; i++) {
      const { context, recipient } = harness.person();
      await sender.send(context, recipient, prompt());
    }
    expect(sb.control.messages(platform)).toHaveLength(3);
    expect(tokenCalls()).toBe(1);
  });

  it('is fetched once by concurrent sends', async () => {
    sb.control.setLatency(platform, 100);
    const sender = make(config);
    const people = Array.from({ length: 8 }, () => harness.person());
    await Promise.all(people.map(({ context, recipient }) => sender.send(context, recipient, prompt())));
    expect(sb.control.messages(platform)).toHaveLength(8);
    expect(tokenCalls()).toBe(1);
  });

  it('is fetched again once when the platform stops accepting the cached one', async () => {
    const sender = make(config);
    const first = harness.person();
    await sender.send(first.context, first.recipient, prompt());
    sb.control.reset(); // forgets every bot token the sandbox issued
    const second = harness.person();
    await sender.send(second.context, second.recipient, prompt());
    expect(sb.control.messages(platform, second.recordedAs)).toHaveLength(1);
    expect(tokenCalls()).toBe(1);
  });

  it('is fetched again also when the refused token was cached in the same millisecond the send began', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() }); // the clock stands still; I/O and timers are real
    try {
      const sender = make(config);
      const first = harness.person();
      await sender.send(first.context, first.recipient, prompt());
      sb.control.reset();
      const second = harness.person();
      await sender.send(second.context, second.recipient, prompt());
      expect(sb.control.messages(platform, second.recordedAs)).toHaveLength(1);
      expect(tokenCalls()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports refused bot credentials as bot_auth_failed, without the secret', async () => {
    const secret = `wrong-${randomUUID()}`;
    const broken = loadConfig({ ...sb.env, ...(platform === 'microsoft' ? { MICROSOFT_BOT_APP_SECRET: secret } : { ZOOM_CLIENT_SECRET: secret }) });
    const { context, recipient } = harness.person();
    const error = await failureOf(make(broken).send(context, recipient, prompt()));
    expect(error.signals).toMatchObject({ platform, operation: 'send', httpStatus: 401, platformCode: 'bot_auth_failed', error: 'invalid_client' });
    if (platform === 'microsoft') expect(error.signals.aadsts).toBe(7000215);
    expect(JSON.stringify(error.signals) + error.message).not.toContain(secret);
    expect(sb.control.messages(platform)).toHaveLength(0);
  });
});

describe('addressing and rendering', () => {
  it('Teams falls back to MICROSOFT_BOT_SERVICE_URL and posts an Adaptive Card with an OpenUrl action', async () => {
    const { recipient, recordedAs } = HARNESSES[0].person();
    const message = prompt();
    await new TeamsBotSender(config).send({}, recipient, message);
    const [received] = sb.control.messages('microsoft', recordedAs);
    expect(received.raw).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            body: [{ type: 'TextBlock', text: 'Your connection needs attention <R&D> \\*now\\*' }, {}, {}],
            actions: [{ type: 'Action.OpenUrl', url: message.action?.url }],
          },
        },
      ],
    });
  });

  it('Slack posts a header, the escaped text and a URL button in the DM channel', async () => {
    const { context, recipient, recordedAs } = HARNESSES[1].person();
    const message = prompt();
    await new SlackBotSender(config).send(context, recipient, message);
    const [received] = sb.control.messages('slack', recordedAs);
    expect(received.text).toContain('&lt;R&amp;D&gt;');
    expect(received.raw).toMatchObject({
      channel: `D0${recordedAs.slice(1)}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: message.title } },
        // The lines carry outside strings: plain_text is never parsed for links, mentions or styles.
        { type: 'section', text: { type: 'plain_text' } },
        { type: 'actions', elements: [{ type: 'button', url: message.action?.url }] },
      ],
    });
  });

  it('Slack without a bot token, or with a dead one, fails with Slack codes', async () => {
    const { recipient, context } = HARNESSES[1].person();
    const sender = new SlackBotSender(config);
    expect((await failureOf(sender.send({}, recipient, prompt()))).signals).toMatchObject({ platform: 'slack', platformCode: 'not_authed' });
    sb.control.reset(); // the bot token is forgotten
    expect((await failureOf(sender.send(context, recipient, prompt()))).signals).toMatchObject({ platform: 'slack', httpStatus: 200, platformCode: 'invalid_auth' });
  });

  it('Webex writes to the e-mail when known, else the person id, with markdown and a card', async () => {
    const sender = new WebexBotSender(config);
    const byId = HARNESSES[2].person();
    await sender.send(byId.context, byId.recipient, prompt());
    expect(sb.control.messages('webex', byId.recordedAs)).toHaveLength(1);
    const email = `ada.${randomUUID().slice(0, 6)}@contoso.example`;
    const message = prompt();
    await sender.send({}, { ...byId.recipient, email }, message);
    const [received] = sb.control.messages('webex', email);
    expect(received.raw).toMatchObject({
      toPersonEmail: email,
      markdown: expect.stringContaining('\\<R\\&D\\> \\*now\\*'),
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { actions: [{ type: 'Action.OpenUrl', url: message.action?.url }] } }],
    });
  });

  it('Webex reports a refused bot token as bot_auth_failed', async () => {
    const { context, recipient } = HARNESSES[2].person();
    const error = await failureOf(new WebexBotSender(loadConfig({ ...sb.env, WEBEX_BOT_TOKEN: 'not-the-bot' })).send(context, recipient, prompt()));
    expect(error.signals).toMatchObject({ platform: 'webex', httpStatus: 401, platformCode: 'bot_auth_failed' });
  });

  it('Zoom addresses the lower-case JID with the robot JID and the account id', async () => {
    const { context, recipient, recordedAs } = HARNESSES[3].person();
    const message = prompt();
    await new ZoomBotSender(config).send(context, recipient, message);
    const [received] = sb.control.messages('zoom', recordedAs);
    expect(received.raw).toMatchObject({
      robot_jid: sb.env.ZOOM_BOT_JID,
      to_jid: `${recordedAs}@xmpp.zoom.us`,
      account_id: context.accountId,
      content: { head: { text: message.title }, body: [{ type: 'message' }, { type: 'message' }, { type: 'message', link: message.action?.url }] },
    });
  });

  it('a sender without bot credentials is disabled and refuses to send', async () => {
    const bare = loadConfig({});
    expect([new TeamsBotSender(bare), new WebexBotSender(bare), new ZoomBotSender(bare)].map((s) => s.enabled)).toEqual([false, false, false]);
    expect(new SlackBotSender(bare).enabled).toBe(true);
    const { recipient } = HARNESSES[3].person();
    expect((await failureOf(new ZoomBotSender(bare).send({}, recipient, prompt()))).signals.platformCode).toBe('bot_not_configured');
  });
});
