import type { PlatformScopes } from '../scope-catalog';

/**
 * Microsoft Graph delegated permissions a user connection requests (SPEC §8), each with the
 * reason we need it. Source: Microsoft Graph permissions reference
 * (learn.microsoft.com/graph/permissions-reference) and the Microsoft identity platform
 * "scopes and permissions" page for the OpenID Connect scopes.
 */
export const MICROSOFT_SCOPES: PlatformScopes = {
  user: [
    { scope: 'openid', reason: 'Sign-in: the ID token carries the oid and tid that identify the connection.' },
    { scope: 'profile', reason: 'Name and user name in the ID token, shown to admins on incidents.' },
    { scope: 'offline_access', reason: 'A refresh token, so the service can keep the connection alive.' },
    { scope: 'User.Read', reason: "Read the signed-in user's own profile (probes and identity checks)." },
    { scope: 'Chat.Read', reason: "Read the user's 1:1 and group chat messages for the relay." },
    { scope: 'Channel.ReadBasic.All', reason: 'List channel names and descriptions to map relayed conversations.' },
    { scope: 'Files.Read.All', reason: 'Read files shared in chats and channels so the relay can forward attachments.' },
    { scope: 'Sites.Read.All', reason: 'Read SharePoint sites that back channel files.' },
    { scope: 'Team.ReadBasic.All', reason: 'List the teams the user belongs to.' },
    { scope: 'User.ReadBasic.All', reason: "Resolve other people's names and photos in relayed messages." },
  ],
  bot: [
    // The Teams bot has no delegated scopes: Bot Framework issues a client_credentials token for this resource.
    { scope: 'https://api.botframework.com/.default', reason: 'Bot Framework Connector token to send proactive 1:1 messages in Teams.' },
  ],
  grants: {
    // Entra ID echoes Graph scopes without their resource prefix and never lists offline_access;
    // openid/profile may be missing too. Graph scope names compare case-insensitively.
    notEchoed: ['openid', 'profile', 'offline_access', 'email'],
    stripPrefixes: ['https://graph.microsoft.com/'],
    caseInsensitive: true,
  },
};

/**
 * Entra ID refresh tokens live 90 days and each refresh hands out a new one, so a fresh token's
 * expiry is 90 days from now. Source: Microsoft identity platform "Refresh tokens" ("the default
 * lifetime for the refresh tokens is 24 hours for single page apps and 90 days for all other
 * scenarios"); refresh token lifetimes are no longer configurable by policy.
 */
export const MICROSOFT_REFRESH_TOKEN_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
