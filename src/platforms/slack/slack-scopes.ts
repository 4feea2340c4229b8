import type { PlatformScopes } from '../scope-catalog';

/**
 * Slack user-token scopes (a user connection) and bot-token scopes (the tenant's bot), SPEC §8.
 * Source: docs.slack.dev scope reference, one page per scope.
 */
export const SLACK_SCOPES: PlatformScopes = {
  user: [
    { scope: 'channels:history', reason: 'Read messages in public channels the user is in, for the relay.' },
    { scope: 'channels:read', reason: 'List public channels and their members to map conversations.' },
    { scope: 'groups:history', reason: 'Read messages in private channels the user is in.' },
    { scope: 'groups:read', reason: 'List private channels the user is in.' },
    { scope: 'im:history', reason: "Read the user's direct messages." },
    { scope: 'mpim:history', reason: "Read the user's group direct messages." },
    { scope: 'chat:write', reason: 'Post relayed messages as the user.' },
    { scope: 'files:read', reason: 'Read files shared in relayed conversations.' },
    { scope: 'users:read', reason: 'Resolve user ids to names.' },
    { scope: 'users:read.email', reason: 'Match people across platforms by e-mail address.' },
  ],
  bot: [
    { scope: 'chat:write', reason: 'Send Auto Heal prompts as the bot.' },
    { scope: 'im:write', reason: 'Open the DM with a user or admin (conversations.open).' },
    { scope: 'users:read', reason: 'Look up the recipient of a prompt.' },
    { scope: 'users:read.email', reason: 'Find an admin by e-mail address.' },
  ],
  grants: {
    // oauth.v2.access reports granted user scopes as one comma-separated string.
    notEchoed: [],
    stripPrefixes: [],
    caseInsensitive: false,
  },
};
