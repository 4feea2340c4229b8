import type { SignalOutcome, SignalRule, SignalTable } from '../classify';

/**
 * Slack `error` strings (HTTP 200 `{ok:false,error}`, or 429 `ratelimited`) → outcome.
 *
 * Sources: SPEC §3 lists; docs.slack.dev `oauth.v2.access` (bad_client_secret, bad_redirect_uri,
 * invalid_client_id, invalid_code, invalid_grant_type, oauth_authorization_url_mismatch) and
 * `oauth.v2.exchange` (accesslimited, account_inactive, authorization_not_found,
 * deprecated_endpoint, ekm_access_denied, enterprise_is_restricted, fatal_error, …);
 * docs.slack.dev "Using token rotation" (invalid_refresh_token) and the Web API common errors
 * (invalid_arguments, invalid_form_data, request_timeout, service_unavailable, team_added_to_org,
 * token_expired, token_revoked, two_factor_setup_required).
 */
const code = (value: string, outcome: SignalOutcome, why: string): SignalRule => ({ key: 'platformCode', value, outcome, why });

export const SLACK_SIGNALS: SignalTable = {
  platform: 'slack',
  precedence: ['platformCode'],
  rules: [
    code('invalid_refresh_token', 'dead_grant', 'Refresh token used, expired or revoked'),
    code('token_expired', 'dead_grant', 'Token expired'),
    code('token_revoked', 'grant_revoked', 'Token revoked by the user or an admin'),
    code('authorization_not_found', 'grant_revoked', 'The underlying authorization was revoked'),
    code('invalid_code', 'grant_revoked', 'The authorization code is not valid: start OAuth again'),
    code('account_inactive', 'user_deleted', 'The user (or workspace) was deactivated'),
    code('two_factor_setup_required', 'mfa_enrollment_required', 'The workspace requires two-factor authentication'),
    code('team_access_not_granted', 'consent_required', 'The app was not granted access to this workspace'),
    code('missing_scope', 'consent_required', 'A required scope was not granted'),
    code('ekm_access_denied', 'conditional_access_blocked', 'Enterprise Key Management: admins suspended access'),
    code('accesslimited', 'conditional_access_blocked', 'Access limited on the current network by an admin'),
    code('enterprise_is_restricted', 'conditional_access_blocked', 'The Enterprise Grid org restricts this call'),
    code('invalid_client_id', 'client_misconfigured', 'Our client id is wrong'),
    code('bad_client_secret', 'client_misconfigured', 'Our client secret is wrong'),
    code('bad_redirect_uri', 'client_misconfigured', 'Our redirect URI does not match'),
    code('oauth_authorization_url_mismatch', 'client_misconfigured', 'Flow started on a v1 authorize URL'),
    code('invalid_grant_type', 'client_misconfigured', 'We sent a wrong grant_type'),
    code('deprecated_endpoint', 'client_misconfigured', 'We call a deprecated endpoint'),
    code('invalid_arguments', 'client_misconfigured', 'We sent malformed arguments'),
    code('invalid_form_data', 'client_misconfigured', 'We sent a malformed form'),
    code('ratelimited', 'transient', 'Rate limited (429 with Retry-After)'),
    code('service_unavailable', 'transient', 'Slack is unavailable'),
    code('internal_error', 'transient', 'Slack internal error'),
    code('fatal_error', 'transient', 'Slack fatal error'),
    code('request_timeout', 'transient', 'Slack timed out'),
    code('org_login_required', 'transient', 'Workspace undergoing an Enterprise Grid migration'),
    code('team_added_to_org', 'transient', 'Workspace being added to an Enterprise Grid org'),
  ],
};
