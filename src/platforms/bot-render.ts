import type { KnownBlock } from '@slack/web-api';
import type { BotMessage } from './platform';

/**
 * One `BotMessage`, rendered for each platform's format. Every renderer shows the same
 * parts in the same order (title, paragraphs, one button) so a prompt reads alike on all
 * four platforms; only the markup and its escaping differ.
 *
 * `BotMessage` text is plain and carries outside strings (user ids, names, e-mails), so
 * this file is the one place that makes them inert, one function per platform. The only
 * live markup in a DM is ours: the title's emphasis and the action's link, whose URL is
 * never altered. Our fixed texts hold no URLs, control characters or markup of their
 * own, so the escaping is applied to whole lines.
 */

/** Limits the platforms reject a message over (Slack Block Kit: header 150, button 75, section 3000). */
const SLACK_LIMITS = { header: 150, button: 75, section: 3000 } as const;

const ZWSP = '\u200B';

function clamp(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * What every platform needs, markup or not. Line breaks and other control characters would
 * let an outside string start a paragraph of its own (a fake instruction) and bidi controls
 * would reorder what the reader sees: both become a space. Clients link bare URLs in plain
 * text too, so `scheme://` and `www.` get a zero-width space that stops the link and keeps
 * the text readable; so does `](`, the heart of a markdown link.
 */
export function inert(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- control characters are what this removes.
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
      .replace(/:\/\//g, `:${ZWSP}//`)
      // `[text](url)` is a link only with nothing between `]` and `(`: this holds where no escape does (plain fields some client renders).
      .replace(/\]\(/g, `]${ZWSP}(`)
      .replace(/\b(www)\./gi, `$1${ZWSP}.`)
  );
}

/** Plain text: notification previews, screen readers, clients that cannot show cards. */
export function plainText(message: BotMessage): string {
  const parts = [message.title, ...message.lines].map(inert);
  if (message.action) parts.push(`${inert(message.action.label)}: ${message.action.url}`);
  return parts.join('\n\n');
}

/**
 * Slack mrkdwn (https://api.slack.com/reference/surfaces/formatting#escaping): `&`, `<` and
 * `>` are the control characters of links and mentions (`<!channel>`, `<@U1>`, `<url|x>`)
 * and the only ones Slack lets us escape. A bare `@here`/`@channel`/`@everyone` does not
 * notify without `link_names`, but a zero-width space keeps it so should that ever be set.
 * `*_~` and backticks have no escape in mrkdwn; they only style text, and only in the
 * notification fallback: the message itself shows the lines as `plain_text`.
 */
export function escapeSlack(text: string): string {
  return slackEntities(inert(text)).replace(/@(here|channel|everyone)\b/gi, `@${ZWSP}$1`);
}

function slackEntities(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The `text` of chat.postMessage: the notification and the fallback for clients without blocks. */
export function slackText(message: BotMessage): string {
  const parts = [`*${escapeSlack(message.title)}*`, ...message.lines.map(escapeSlack)];
  // `|` ends the URL part of a Slack link, so it may not appear in the label.
  if (message.action) parts.push(`<${slackEntities(message.action.url)}|${escapeSlack(message.action.label).replace(/\|/g, '/')}>`);
  return parts.join('\n\n');
}

/** Slack `plain_text` is never parsed for links, mentions or styles; only what clients auto-link is left to defuse. */
function slackPlain(text: string): string {
  return inert(text).replace(/@(here|channel|everyone)\b/gi, `@${ZWSP}$1`);
}

export function slackBlocks(message: BotMessage): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clamp(slackPlain(message.title), SLACK_LIMITS.header), emoji: false } }];
  if (message.lines.length > 0) {
    const text = clamp(message.lines.map(slackPlain).join('\n\n'), SLACK_LIMITS.section);
    blocks.push({ type: 'section', text: { type: 'plain_text', text, emoji: false } });
  }
  if (message.action) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'autoheal_action',
          style: 'primary',
          text: { type: 'plain_text', text: clamp(slackPlain(message.action.label), SLACK_LIMITS.button), emoji: false },
          url: message.action.url,
        },
      ],
    });
  }
  return blocks;
}

/**
 * Backslash-escapes `chars` anywhere, and the markers that start a heading or a list at
 * the start of a line. A digit cannot be escaped; the dot after it can, which is what
 * stops an ordered list.
 */
function backslashEscape(text: string, chars: RegExp): string {
  return inert(text)
    .replace(chars, (c) => `\\${c}`)
    .replace(/^(\s*)(#|[-+](?=\s))/gm, '$1\\$2')
    .replace(/^(\s*\d+)\./gm, '$1\\.');
}

/**
 * Webex markdown (https://developer.webex.com/docs/basics#formatting-messages) is
 * CommonMark-like with some HTML and `<@personId:…>`/`<@all>` mentions: every character
 * that makes emphasis, code, links, quotes, tables, entities or HTML is escaped.
 */
export function escapeMarkdown(text: string): string {
  return backslashEscape(text, /[\\`*_~[\]()<>|&]/g);
}

/**
 * Adaptive Card TextBlock (https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features):
 * a CommonMark subset of `**bold**`, `_italic_`, lists and `[text](url)`; no HTML. Only the
 * characters of that subset are escaped: a backslash before anything else may be shown as
 * it is by Teams clients.
 */
export function escapeCardText(text: string): string {
  return backslashEscape(text, /[\\*_[\]()]/g);
}

/** A link destination cannot hold spaces, parentheses or angle brackets unencoded. */
function markdownUrl(url: string): string {
  return url.replace(/[()<>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function markdown(message: BotMessage): string {
  const parts = [`**${escapeMarkdown(message.title)}**`, ...message.lines.map(escapeMarkdown)];
  if (message.action) parts.push(`[${escapeMarkdown(message.action.label)}](${markdownUrl(message.action.url)})`);
  return parts.join('\n\n');
}

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/**
 * Adaptive Card (Teams and Webex). Version 1.2 is what Teams mobile and Webex both render;
 * TextBlock, `wrap` and Action.OpenUrl are all older than that. An action's `title` is
 * never markdown, so only `inert` applies to it.
 */
export function adaptiveCard(message: BotMessage): Record<string, unknown> {
  const body = [
    { type: 'TextBlock', text: escapeCardText(message.title), size: 'Medium', weight: 'Bolder', wrap: true },
    ...message.lines.map((text) => ({ type: 'TextBlock', text: escapeCardText(text), wrap: true })),
  ];
  const card: Record<string, unknown> = { type: 'AdaptiveCard', version: '1.2', body };
  if (message.action) card.actions = [{ type: 'Action.OpenUrl', title: inert(message.action.label), url: message.action.url }];
  return card;
}

/**
 * Zoom chatbot message card (https://developers.zoom.us/docs/team-chat-apps/customizing-messages/):
 * markdown and @mentions apply only with `is_markdown_support: true`, which the sender
 * leaves off, so text shows as it is and only `inert` applies. The button is a linked message.
 */
export function zoomContent(message: BotMessage): { head: { text: string }; body: Record<string, unknown>[] } {
  const body: Record<string, unknown>[] = message.lines.map((text) => ({ type: 'message', text: inert(text) }));
  if (message.action) body.push({ type: 'message', text: inert(message.action.label), link: message.action.url });
  return { head: { text: inert(message.title) }, body };
}
