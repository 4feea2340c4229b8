import type { PlatformScopes } from '../scope-catalog';

/**
 * Webex integration scopes (a user connection) and the bot's scopes, SPEC §8.
 * Source: developer.webex.com "Integrations" guide, scopes table.
 */
const BOT_AND_USER = [
  { scope: 'spark:messages_read', reason: 'Read messages in the spaces the user is in, for the relay.' },
  { scope: 'spark:people_read', reason: "Read the user's own profile (GET /people/me) and resolve other people." },
  { scope: 'spark:teams_read', reason: 'List the teams the user belongs to.' },
  { scope: 'spark:rooms_read', reason: 'List the spaces the user is in.' },
  { scope: 'spark:memberships_write', reason: 'Add the relay to spaces it bridges.' },
  { scope: 'spark-admin:organizations_read', reason: 'Read the organisation name shown on incidents.' },
] as const;

export const WEBEX_SCOPES: PlatformScopes = {
  user: [
    ...BOT_AND_USER,
    { scope: 'spark:messages_write', reason: 'Post relayed messages as the user.' },
    { scope: 'spark:memberships_read', reason: 'List the members of bridged spaces.' },
    { scope: 'spark:team_memberships_read', reason: 'List the members of bridged teams.' },
    { scope: 'spark:team_memberships_write', reason: 'Keep team memberships of bridged teams in step.' },
  ],
  bot: [...BOT_AND_USER],
  grants: {
    // Webex token answers name no scopes: the grant is what was requested (SPEC §8), stored as asked.
    notEchoed: [],
    stripPrefixes: [],
    caseInsensitive: false,
  },
};
