import { Failure, microsoftError, SandboxPlatform, slackError, zoomOauthError } from '../sandbox';
import { dms, importGrant, incidentWhen, sentPrompts, tenantWithAdmins } from './support/heal';
import { startWorld, World } from './support/world';

/**
 * Outside strings in a DM are inert (SPEC §4 prompts, §8 DMs). An admin prompt names the
 * affected user by their external id, which whoever imported the connection chose; here it
 * is a link in the platform's own markup. The DM the sandbox receives must not link to
 * evil.example anywhere in what the platform would render.
 */

interface Case {
  platform: SandboxPlatform;
  /** The user id, written in the markup of that platform. */
  hostileId: string;
  /** An admin-audience failure of that platform. */
  block: Failure;
  condition: string;
}

const CASES: Case[] = [
  { platform: 'microsoft', hostileId: '[click to fix](https://evil.example/login)', block: microsoftError(53003), condition: 'conditional_access_blocked' },
  { platform: 'slack', hostileId: '<https://evil.example/login|click to fix> <!channel>', block: slackError('ekm_access_denied'), condition: 'conditional_access_blocked' },
  { platform: 'zoom', hostileId: '[click to fix](https://evil.example/login)', block: zoomOauthError('invalid_grant', 'Refresh token invalid.'), condition: 'consent_required' },
];

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.close());

/** Every string of a payload, for a search through all of it (text, blocks, cards, summary). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The strings Slack reads as mrkdwn (https://api.slack.com/reference/block-kit/composition-objects#text). */
function slackParsed(raw: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  const r = raw as { text?: unknown; blocks?: unknown };
  if (typeof r.text === 'string') out.push(r.text);
  walk(r.blocks);
  return out;
}

describe.each(CASES)('$platform: a hostile user id in an admin prompt', ({ platform, hostileId, block, condition }) => {
  it('reaches the admin as text, never as a link, mention or markup', async () => {
    const tenant = await tenantWithAdmins(w, platform, 1);
    const user = await importGrant(w, platform, tenant.externalId, { userExternalId: hostileId });
    w.sb.control.failRefreshes(platform, { userExternalId: hostileId }, block, 10);
    const res = await w.t.call('POST', `/v1/connections/${user.id}/invalidate`, undefined, w.relayKey);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ condition, audience: 'admin' });
    await incidentWhen(w, res.body.incidentId, 'the admin prompt sent', (i) => sentPrompts(i.prompts, 'initial').length === 1);

    const [dm, ...more] = dms(w, platform, tenant.admins[0]);
    expect(more).toHaveLength(0);
    // The person is named (the prompt is useful) ...
    expect(dm.text).toContain('evil.example/login');
    expect(dm.text).toContain('click to fix');
    // ... but nothing in the payload is a link to evil.example: no URL a client would link,
    expect(dm.links.filter((l) => l.includes('evil.example'))).toEqual([]);
    const all = strings(dm.raw);
    expect(all.filter((s) => /https?:\/\/evil\.example/i.test(s))).toEqual([]);
    // no markdown link,
    expect(all.filter((s) => /\]\(/.test(s))).toEqual([]);
    // and, in what Slack parses as mrkdwn (`text`, mrkdwn text objects; plain_text is shown as it is), no Slack link or mention.
    expect(slackParsed(dm.raw).filter((s) => /<https?:|<!channel>/.test(s))).toEqual([]);
  });
});
