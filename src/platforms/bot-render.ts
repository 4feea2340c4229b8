import type { KnownBlock } from '@slack/web-api';
import type { BotMessage } from './platform';

/**
 * One `BotMessage`, rendered for each platform's format. Every renderer shows the same
 * parts in the same order (title, paragraphs, one button) so a prompt reads alike on all
 * four platforms; only the markup and its escaping differ. `BotMessage` text is plain and
 * may carry user-controlled values (names, tenant names), so each format escapes it.
 */

/** Limits the platforms reject a message over (Slack Block Kit: header 150, button 75, section 3000). */
const SLACK_LIMITS = { header: 150, button: 75, section: 3000 } as const;

function clamp(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Plain text: notification previews, screen readers, clients that cannot show cards. */
export function plainText(message: BotMessage): string {
  const parts = [message.title, ...message.lines];
  if (message.action) parts.push(`${message.action.label}: ${message.action.url}`);
  return parts.join('\n\n');
}

/** Slack mrkdwn gives `&`, `<` and `>` control meaning (links, mentions); nothing else needs escaping. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackText(message: BotMessage): string {
  const parts = [`*${escapeSlack(message.title)}*`, ...message.lines.map(escapeSlack)];
  // `|` ends the URL part of a Slack link, so it may not appear in the label.
  if (message.action) parts.push(`<${escapeSlack(message.action.url)}|${escapeSlack(message.action.label).replace(/\|/g, '/')}>`);
  return parts.join('\n\n');
}

export function slackBlocks(message: BotMessage): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clamp(message.title, SLACK_LIMITS.header), emoji: false } }];
  if (message.lines.length > 0) {
    const text = clamp(message.lines.map(escapeSlack).join('\n\n'), SLACK_LIMITS.section);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  if (message.action) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'autoheal_action',
          style: 'primary',
          text: { type: 'plain_text', text: clamp(message.action.label, SLACK_LIMITS.button), emoji: false },
          url: message.action.url,
        },
      ],
    });
  }
  return blocks;
}

/**
 * Markdown (Webex): backslash-escape the characters that make emphasis, code, links,
 * quotes or HTML anywhere, and those that start headings or lists at the start of a line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~[\]()<>|&]/g, (c) => `\\${c}`)
    .replace(/^(\s*)(#|[-+](?=\s))/gm, '$1\\$2')
    // A digit cannot be escaped; the dot after it can, which is what stops an ordered list.
    .replace(/^(\s*\d+)\./gm, '$1\\.');
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
 * Adaptive Card: JSON, so values go in as they are. Version 1.2 is what Teams mobile and
 * Webex both render; TextBlock, `wrap` and Action.OpenUrl are all older than that.
 */
export function adaptiveCard(message: BotMessage): Record<string, unknown> {
  const body = [
    { type: 'TextBlock', text: message.title, size: 'Medium', weight: 'Bolder', wrap: true },
    ...message.lines.map((text) => ({ type: 'TextBlock', text, wrap: true })),
  ];
  const card: Record<string, unknown> = { type: 'AdaptiveCard', version: '1.2', body };
  if (message.action) card.actions = [{ type: 'Action.OpenUrl', title: message.action.label, url: message.action.url }];
  return card;
}

/** Zoom chatbot message card: plain text (no `is_markdown_support`), the button as a linked message. */
export function zoomContent(message: BotMessage): { head: { text: string }; body: Record<string, unknown>[] } {
  const body: Record<string, unknown>[] = message.lines.map((text) => ({ type: 'message', text }));
  if (message.action) body.push({ type: 'message', text: message.action.label, link: message.action.url });
  return { head: { text: message.title }, body };
}
