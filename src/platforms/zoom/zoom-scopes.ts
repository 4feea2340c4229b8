import type { PlatformScopes } from '../scope-catalog';

/**
 * Zoom user-level OAuth scopes (a user connection) and the chatbot scope, SPEC §8.
 * Source: developers.zoom.us Team Chat and Users API scope lists, and the chatbot guide
 * (`imchat:bot` comes with the client_credentials token).
 */
export const ZOOM_SCOPES: PlatformScopes = {
  user: [
    { scope: 'chat_message:read', reason: "Read the user's Team Chat messages for the relay." },
    { scope: 'chat_message:write', reason: 'Post relayed messages as the user.' },
    { scope: 'chat_channel:read', reason: "List the user's Team Chat channels to map conversations." },
    { scope: 'user:read', reason: "Read the user's own profile (GET /users/me): id and account id." },
  ],
  bot: [{ scope: 'imchat:bot', reason: 'Send Auto Heal prompts as the Team Chat chatbot.' }],
  grants: {
    // Zoom lists granted scopes space-separated; an account-level grant of the same scope carries
    // an `:admin` suffix and covers the user-level one.
    notEchoed: [],
    stripPrefixes: [],
    caseInsensitive: false,
    adminSuffix: ':admin',
  },
};
