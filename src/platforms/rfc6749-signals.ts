import type { SignalTable } from './classify';

/**
 * The RFC 6749 §5.2 token-endpoint errors, as SPEC §13 reads them for a generic provider:
 * `invalid_grant` is a dead grant (past a known refresh expiry `refresh_token_inactive`, else
 * `grant_revoked`), our client's errors are `client_misconfigured`, and the server's own
 * unavailability is transient (429 and 5xx are transient whatever the body says). A
 * PROVIDERS_FILE `failures` table adds rows in front of these.
 */
export const RFC6749_SIGNALS: SignalTable = {
  platform: 'oauth2',
  precedence: ['platformCode', 'error'],
  rules: [
    { key: 'error', value: 'invalid_grant', outcome: 'dead_grant', why: 'RFC 6749 §5.2: the grant or refresh token is invalid, expired or revoked' },
    { key: 'error', value: 'invalid_client', outcome: 'client_misconfigured', why: 'RFC 6749 §5.2: our client authentication failed' },
    { key: 'error', value: 'unauthorized_client', outcome: 'client_misconfigured', why: 'RFC 6749 §5.2: our client may not use this grant' },
    { key: 'error', value: 'unsupported_grant_type', outcome: 'client_misconfigured', why: 'RFC 6749 §5.2: the server does not take this grant type' },
    { key: 'error', value: 'invalid_scope', outcome: 'client_misconfigured', why: 'RFC 6749 §5.2: our requested scopes are not valid' },
    { key: 'error', value: 'temporarily_unavailable', outcome: 'transient', why: 'RFC 6749 §4.1.2.1: the server is unavailable' },
    { key: 'error', value: 'server_error', outcome: 'transient', why: 'RFC 6749 §4.1.2.1: the server failed' },
  ],
};
