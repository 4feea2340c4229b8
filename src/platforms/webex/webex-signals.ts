import type { SignalRule, SignalTable } from '../classify';
import { RFC6749_SIGNALS } from '../rfc6749-signals';

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
  // Otherwise Webex answers with RFC 6749 §5.2's own errors, read as for any provider.
  ...RFC6749_SIGNALS.rules,
];

export const WEBEX_SIGNALS: SignalTable = { platform: 'webex', precedence: ['error'], rules };
