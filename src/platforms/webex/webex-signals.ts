import type { SignalRule, SignalTable } from '../classify';

/**
 * Webex token-endpoint failures (RFC 6749 bodies with `trackingId`) → outcome. Webex answers a
 * dead refresh token with `invalid_request` ("The refresh token provided is expired, revoked,
 * malformed, or invalid."), so on a refresh that is a dead grant; the wire expiry
 * (`refresh_token_expires_in`) then tells inactivity from revocation.
 *
 * Sources: SPEC §3; developer.webex.com "Integrations" (token and refresh calls); RFC 6749 §5.2.
 */
const rules: SignalRule[] = [
  { key: 'error', value: 'invalid_request', operation: 'refresh', outcome: 'dead_grant', why: 'Refresh token expired, revoked, malformed or invalid' },
  { key: 'error', value: 'invalid_grant', outcome: 'dead_grant', why: 'Grant expired or revoked' },
  { key: 'error', value: 'invalid_client', outcome: 'client_misconfigured', why: 'Our client id or secret is wrong' },
  { key: 'error', value: 'unauthorized_client', outcome: 'client_misconfigured', why: 'Our client may not use this grant' },
  { key: 'error', value: 'unsupported_grant_type', outcome: 'client_misconfigured', why: 'We sent a wrong grant_type' },
  { key: 'error', value: 'invalid_scope', outcome: 'client_misconfigured', why: 'Our requested scopes are not valid for the integration' },
  { key: 'error', value: 'temporarily_unavailable', outcome: 'transient', why: 'Webex is unavailable' },
  { key: 'error', value: 'server_error', outcome: 'transient', why: 'Webex server error' },
];

export const WEBEX_SIGNALS: SignalTable = { platform: 'webex', precedence: ['error'], rules };
