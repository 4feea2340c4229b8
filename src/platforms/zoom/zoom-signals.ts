import type { SignalOutcome, SignalRule, SignalTable } from '../classify';

/**
 * Zoom token-endpoint failures `{reason, error}` → outcome. The `reason` text is Zoom's only
 * specific signal (its numeric codes 47xx stay in its logs), so it comes first and the RFC 6749
 * `error` second. Rotation: a superseded refresh token answers `Invalid Token!`.
 *
 * Sources: SPEC §3; developers.zoom.us "OAuth error messages" (4709 Redirect URI mismatch, 4711
 * Refresh token invalid, 4717 The app has been disabled, 4735 The owner of the token does not
 * exist, 4737 Can not find the authentication…, 4738 The token is disabled by admin, 4740 token
 * tolerance, 4741 The token has been revoked); devsupport.zoom.us "Extending the expiration for an
 * OAuth access token" (an older refresh token answers "Invalid Token!"); RFC 6749 §5.2.
 */
const reason = (value: string, seenWith: string, outcome: SignalOutcome, why: string): SignalRule => ({ key: 'platformCode', value, seenWith, outcome, why });
const error = (value: string, outcome: SignalOutcome, why: string): SignalRule => ({ key: 'error', value, outcome, why });

export const ZOOM_SIGNALS: SignalTable = {
  platform: 'zoom',
  precedence: ['platformCode', 'error'],
  rules: [
    reason('Invalid Token!', 'invalid_grant', 'dead_grant', 'Refresh token superseded, expired or revoked'),
    reason('The token has been revoked.', 'invalid_grant', 'grant_revoked', '4741: a newer authorization replaced this one'),
    reason('Can not find the authentication for the access token.', 'invalid_grant', 'grant_revoked', '4737: authorization gone'),
    reason('The token ID is out of the token tolerance range.', 'invalid_grant', 'dead_grant', '4740: refresh token reused too often'),
    reason('The owner of the token does not exist.', 'invalid_grant', 'user_deleted', '4735: user removed from the account'),
    reason('The app has been disabled', 'invalid_grant', 'app_disabled', '4717: app disabled'),
    reason('The token is disabled by admin.', 'invalid_grant', 'app_disabled', '4738: an admin turned the app off for the account'),
    reason('Refresh token invalid.', 'invalid_grant', 'consent_required', '4711: granted scopes no longer match the app scopes'),
    reason('Redirect URI mismatch.', 'invalid_request', 'client_misconfigured', '4709: our redirect URI is wrong'),
    error('invalid_grant', 'dead_grant', 'Grant expired or revoked'),
    error('invalid_client', 'client_misconfigured', '4702/4704: our client id or secret is wrong'),
    error('unauthorized_client', 'client_misconfigured', 'Our client may not use this grant'),
    error('unsupported_grant_type', 'client_misconfigured', '4705: wrong grant type'),
    error('temporarily_unavailable', 'transient', 'Zoom is unavailable'),
    error('server_error', 'transient', 'Zoom server error'),
  ],
};
