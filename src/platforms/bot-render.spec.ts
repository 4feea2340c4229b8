import { adaptiveCard, escapeCardText, escapeMarkdown, escapeSlack, inert, markdown, plainText, slackBlocks, slackText, zoomContent } from './bot-render';
import type { BotMessage } from './platform';

const message: BotMessage = {
  title: 'Slack <needs> attention & *care*',
  lines: ['# not a heading', '1. not a list', 'Ask [admin](http://evil.example) for `help`_now_'],
  action: { label: 'Fix | now', url: 'https://autoheal.example/connect/abc(1)' },
};

/** What an attacker puts in a user id, a display name or a tenant name. */
const HOSTILE = [
  '[click](https://evil.example)',
  '<https://evil.example|click>',
  '<!channel> <!here> <@U0ADMIN> <#C0GENERAL>',
  '*bold* _italic_ ~strike~ `code` **strong**',
  '@here @channel @everyone',
  '<a href="https://evil.example">x</a><img src=x onerror=alert(1)>',
  '```\nblock\n```',
  'https://evil.example/login www.evil.example',
  'line\n- list\n# heading\n2. step',
  'ab\u202Eexe.txt',
];

/** Every URL a client would make clickable in `text` (what the sandbox records as links). */
const bareUrls = (text: string) => [...text.matchAll(/(https?:\/\/|www\.)[^\s<>"'()|\]]+/gi)].map((m) => m[0]);

/** A user whose id is each hostile string, in the way the outbox words an admin prompt. */
const withOutsider = (who: string): BotMessage => ({
  title: 'Microsoft Teams: action needed for the chat bridge',
  lines: [`Microsoft Teams refuses to issue tokens for one user (${who}).`, 'Review the policies.'],
  action: { label: 'Open the admin center', url: 'https://autoheal.example/connect/OURLINK' },
});

describe('outside strings are inert in every format', () => {
  it('inert: no line breaks, control or bidi characters, and no auto-linkable URL', () => {
    expect(inert('a\nb\r\nc\td\u2028e\u202Ef\u0000g')).toBe('a b  c d e f g');
    expect(bareUrls(inert('see https://evil.example and HTTP://EVIL.example and www.evil.example'))).toEqual([]);
    expect(inert('[x](https://evil.example)')).not.toContain('](');
    // Readable as it was: only zero-width spaces were added.
    expect(inert('[x](https://evil.example)').replace(/\u200B/g, '')).toBe('[x](https://evil.example)');
  });

  it.each(HOSTILE)('Slack: %j makes no link, mention or style', (who) => {
    const msg = withOutsider(who);
    const text = slackText(msg);
    const outside = escapeSlack(who);
    expect(outside).not.toMatch(/[<>]/);
    expect(outside).not.toMatch(/@(here|channel|everyone)/);
    expect(outside).not.toContain('\n');
    // Our own link stays live, and it is the only one.
    expect(bareUrls(text)).toEqual(['https://autoheal.example/connect/OURLINK']);
    expect(text).toContain('<https://autoheal.example/connect/OURLINK|Open the admin center>');
    expect(text.match(/</g)).toHaveLength(1);
    const blocks = slackBlocks(msg);
    // Every text block is plain_text: never parsed for links, mentions or styles.
    const texts = JSON.stringify(blocks).match(/"type":"(plain_text|mrkdwn)"/g);
    expect(texts).toEqual(['"type":"plain_text"', '"type":"plain_text"', '"type":"plain_text"']);
    const shown = JSON.stringify(blocks.filter((b) => b.type !== 'actions'));
    expect(
      bareUrls(
        JSON.parse(shown)
          .map((b: { text: { text: string } }) => b.text.text)
          .join(' '),
      ),
    ).toEqual([]);
    expect(blocks[2]).toMatchObject({ elements: [{ url: 'https://autoheal.example/connect/OURLINK' }] });
  });

  it('Slack: the escapes the formatting page documents', () => {
    expect(escapeSlack('<@U1> & <!here>')).toBe('&lt;@U1&gt; &amp; &lt;!here&gt;');
    expect(escapeSlack('<https://evil.example|click>')).toBe('&lt;https:\u200B//evil.example|click&gt;');
    expect(escapeSlack('@here and @Channel')).toBe('@\u200Bhere and @\u200BChannel');
    expect(escapeSlack('mail@here.example')).toBe('mail@\u200Bhere.example');
    const text = slackText(message);
    expect(text).toContain('*Slack &lt;needs&gt; attention &amp; *care**');
    expect(text).toContain('<https://autoheal.example/connect/abc(1)|Fix / now>');
  });

  it('Slack: the title sits in a plain_text header clamped to Slack limits', () => {
    const blocks = slackBlocks({ ...message, title: 'x'.repeat(200) });
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(JSON.stringify(blocks[0])).toContain(`${'x'.repeat(149)}…`);
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions']);
  });

  it.each(HOSTILE)('Teams card: %j makes no link, list or emphasis', (who) => {
    const card = adaptiveCard(withOutsider(who)) as { body: { text: string }[]; actions: { url: string }[] };
    const line = card.body[1].text;
    expect(bareUrls(line)).toEqual([]);
    // No unescaped markdown control character of the card subset is left in the outside string.
    expect(escapeCardText(who)).not.toMatch(/(^|[^\\])[*_[\]()]/);
    expect(line).not.toMatch(/\]\(/);
    expect(line).not.toContain('\n');
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the admin center', url: 'https://autoheal.example/connect/OURLINK' }]);
  });

  it('Teams card: escapes only the markdown subset cards know, and line starts', () => {
    expect(escapeCardText('[x](https://evil.example) **b** _i_')).toBe('\\[x\\]\u200B\\(https:\u200B//evil.example\\) \\*\\*b\\*\\* \\_i\\_');
    expect(escapeCardText('- item')).toBe('\\- item');
    expect(escapeCardText('3. step')).toBe('3\\. step');
    // Cards render no HTML and no code: those characters stay as typed, with no stray backslash.
    expect(escapeCardText('<b>R&D</b> `x` ~y~ a|b')).toBe('<b>R&D</b> `x` ~y~ a|b');
  });

  it.each(HOSTILE)('Webex markdown: %j makes no link, mention, HTML or emphasis', (who) => {
    const md = markdown(withOutsider(who));
    const outside = escapeMarkdown(who);
    expect(outside).not.toMatch(/(^|[^\\])[`*_~[\]()<>|&]/);
    expect(outside).not.toContain('\n');
    expect(bareUrls(md.replace('(https://autoheal.example/connect/OURLINK)', ''))).toEqual([]);
    expect(md).toContain('[Open the admin center](https://autoheal.example/connect/OURLINK)');
  });

  it('Webex markdown: backslash escapes and line starts', () => {
    expect(escapeMarkdown('[a](http://x) *b* `c` <d> _e_')).toBe('\\[a\\]\u200B\\(http:\u200B//x\\) \\*b\\* \\`c\\` \\<d\\> \\_e\\_');
    expect(escapeMarkdown('# h')).toBe('\\# h');
    expect(escapeMarkdown('2. step')).toBe('2\\. step');
    expect(escapeMarkdown('-1 stays')).toBe('-1 stays');
    expect(escapeMarkdown('<@all> &amp;')).toBe('\\<@all\\> \\&amp;');
    const md = markdown(message);
    expect(md).toContain('[Fix \\| now](https://autoheal.example/connect/abc%281%29)');
    expect(md).not.toContain('[admin](http');
  });

  it.each(HOSTILE)('Zoom (markdown off) and plain text: %j has no auto-linkable URL', (who) => {
    const msg = withOutsider(who);
    const zoom = zoomContent(msg);
    expect(bareUrls(zoom.head.text + zoom.body.map((b) => String(b.text)).join(' '))).toEqual([]);
    expect(zoom.body.at(-1)).toEqual({ type: 'message', text: 'Open the admin center', link: 'https://autoheal.example/connect/OURLINK' });
    const plain = plainText(msg);
    expect(bareUrls(plain)).toEqual(['https://autoheal.example/connect/OURLINK']);
  });

  it('renders the same parts everywhere: title, lines, one action', () => {
    expect(plainText(message).split('\n\n')).toEqual([message.title, ...message.lines.map(inert), 'Fix | now: https://autoheal.example/connect/abc(1)']);
    expect(adaptiveCard(message)).toMatchObject({
      body: [{ text: 'Slack <needs> attention & \\*care\\*' }, { text: '\\# not a heading' }, { text: '1\\. not a list' }, { text: expect.stringContaining('\\[admin\\]') }],
      actions: [{ type: 'Action.OpenUrl', title: 'Fix | now', url: message.action?.url }],
    });
    expect(zoomContent(message)).toEqual({
      head: { text: message.title },
      body: [...message.lines.map((text) => ({ type: 'message', text: inert(text) })), { type: 'message', text: 'Fix | now', link: message.action?.url }],
    });
    expect(adaptiveCard({ title: 't', lines: [] })).not.toHaveProperty('actions');
    expect(slackBlocks({ title: 't', lines: [] })).toHaveLength(1);
  });
});
