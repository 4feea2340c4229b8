import { adaptiveCard, escapeMarkdown, escapeSlack, markdown, plainText, slackBlocks, slackText, zoomContent } from './bot-render';
import type { BotMessage } from './platform';

const message: BotMessage = {
  title: 'Slack <needs> attention & *care*',
  lines: ['# not a heading', '1. not a list', 'Ask [admin](http://evil.example) for `help`_now_'],
  action: { label: 'Fix | now', url: 'https://autoheal.example/connect/abc(1)' },
};

describe('bot message rendering', () => {
  it('escapes Slack mrkdwn control characters and keeps the link label out of the URL part', () => {
    expect(escapeSlack('<@U1> & <!here>')).toBe('&lt;@U1&gt; &amp; &lt;!here&gt;');
    const text = slackText(message);
    expect(text).toContain('*Slack &lt;needs&gt; attention &amp; *care**');
    expect(text).toContain('<https://autoheal.example/connect/abc(1)|Fix / now>');
  });

  it('puts the raw title in a plain_text header and clamps it to Slack limits', () => {
    const blocks = slackBlocks({ ...message, title: 'x'.repeat(200) });
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    const header = JSON.stringify(blocks[0]);
    expect(header).toContain(`${'x'.repeat(149)}…`);
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions']);
  });

  it('escapes markdown so user text cannot become links, emphasis, headings or lists', () => {
    expect(escapeMarkdown('[a](http://x) *b* `c` <d> _e_')).toBe('\\[a\\]\\(http://x\\) \\*b\\* \\`c\\` \\<d\\> \\_e\\_');
    expect(escapeMarkdown('# h\n- item\n2. step\n-1 stays')).toBe('\\# h\n\\- item\n2\\. step\n-1 stays');
    const md = markdown(message);
    expect(md).toContain('[Fix \\| now](https://autoheal.example/connect/abc%281%29)');
    expect(md).not.toContain('[admin](http');
  });

  it('renders the same parts everywhere: title, lines, one action', () => {
    expect(plainText(message).split('\n\n')).toEqual([message.title, ...message.lines, 'Fix | now: https://autoheal.example/connect/abc(1)']);
    expect(adaptiveCard(message)).toMatchObject({
      body: [{ text: message.title }, { text: message.lines[0] }, { text: message.lines[1] }, { text: message.lines[2] }],
      actions: [{ type: 'Action.OpenUrl', title: 'Fix | now', url: message.action?.url }],
    });
    expect(zoomContent(message)).toEqual({
      head: { text: message.title },
      body: [...message.lines.map((text) => ({ type: 'message', text })), { type: 'message', text: 'Fix | now', link: message.action?.url }],
    });
    expect(adaptiveCard({ title: 't', lines: [] })).not.toHaveProperty('actions');
    expect(slackBlocks({ title: 't', lines: [] })).toHaveLength(1);
  });
});
