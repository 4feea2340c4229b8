/** Bot Framework Connector (Teams): create a 1:1 conversation, then post activities to it. */
import { ServerResponse } from 'node:http';
import { botConnectorError } from './errors';
import { bearer, isRecord, Req, sendJson, str } from './http';
import { extractLinks } from './links';
import { messagePreamble, PlatformContext } from './platform';
import { randomToken } from './state';

const ACTIVITIES = /^\/v3\/conversations\/([^/]+)\/activities\/?$/;

/** Plain text of an activity: its `text`, else every TextBlock of its Adaptive Cards. */
function activityText(activity: Record<string, unknown>): string {
  const text = str(activity.text);
  if (text) return text;
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isRecord(node)) {
      if (node.type === 'TextBlock' && typeof node.text === 'string') parts.push(node.text);
      Object.values(node).forEach(walk);
    }
  };
  walk(activity.attachments);
  return parts.join('\n');
}

export function createTeamsConnector(ctx: PlatformContext): (req: Req, res: ServerResponse) => Promise<boolean> {
  const { state } = ctx;
  const conversations = new Map<string, string>();

  function authorized(req: Req, res: ServerResponse): boolean {
    if (state.liveBot(bearer(req))) return true;
    const e = botConnectorError(401, 'Unauthorized', 'Authorization has been denied for this request.');
    sendJson(res, e.status, e.body);
    return false;
  }

  return async (req, res) => {
    if (req.method === 'POST' && /^\/v3\/conversations\/?$/.test(req.path)) {
      if (!authorized(req, res)) return true;
      const body = isRecord(req.json) ? req.json : {};
      const members = Array.isArray(body.members) ? body.members.filter(isRecord) : [];
      const channelData = isRecord(body.channelData) ? body.channelData : {};
      const tenantId = str(isRecord(channelData.tenant) ? channelData.tenant.id : undefined) ?? str(body.tenantId);
      const member = members[0];
      const recipient = member ? (str(member.aadObjectId) ?? str(member.id)) : undefined;
      if (!recipient || members.length !== 1) {
        const e = botConnectorError(400, 'BadArgument', 'A 1:1 conversation needs exactly one member.');
        sendJson(res, e.status, e.body);
        return true;
      }
      if (!tenantId) {
        // Teams refuses proactive conversations without the tenant.
        const e = botConnectorError(400, 'BadSyntax', 'Tenant ID is required (channelData.tenant.id).');
        sendJson(res, e.status, e.body);
        return true;
      }
      const id = `a:1${randomToken(40)}`;
      conversations.set(id, recipient.replace(/^29:/, ''));
      sendJson(res, 201, { id });
      return true;
    }
    const match = ACTIVITIES.exec(req.path);
    if (req.method === 'POST' && match) {
      if (!authorized(req, res)) return true;
      const recipient = conversations.get(decodeURIComponent(match[1]));
      if (recipient === undefined) {
        const e = botConnectorError(404, 'ConversationNotFound', 'Conversation not found.');
        sendJson(res, e.status, e.body);
        return true;
      }
      if (await messagePreamble(state, res)) return true;
      const activity = isRecord(req.json) ? req.json : {};
      state.messages.push({
        platform: 'microsoft',
        recipient,
        text: activityText(activity),
        links: extractLinks([activity.text, activity.attachments]),
        raw: activity,
        at: new Date(),
      });
      sendJson(res, 201, { id: `1:${randomToken(16)}` });
      return true;
    }
    return false;
  };
}
