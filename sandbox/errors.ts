/** Error bodies with the platforms' real shapes; exported so tests can inject them exactly. */
import { randomUUID } from 'node:crypto';
import { StatusFailure } from './types';

interface AadstsInfo {
  error: string;
  suberror?: string;
  text: string;
}

/** What Entra ID answers for each number on the token endpoint (error, default suberror, message). */
const AADSTS: Record<number, AadstsInfo> = {
  50034: { error: 'invalid_grant', text: 'The user account {identifier} does not exist in the {tenant} directory.' },
  50057: { error: 'invalid_grant', text: 'The user account is disabled.' },
  50072: {
    error: 'interaction_required',
    suberror: 'basic_action',
    text: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.',
  },
  50076: {
    error: 'invalid_grant',
    suberror: 'basic_action',
    text: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.',
  },
  50079: {
    error: 'invalid_grant',
    suberror: 'basic_action',
    text: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access this resource.',
  },
  50132: { error: 'invalid_grant', suberror: 'bad_token', text: "The session has been revoked. This occurs because of the user's password was changed or reset." },
  50133: { error: 'invalid_grant', suberror: 'bad_token', text: 'Session is invalid due to expiration or recent password change.' },
  50173: {
    error: 'invalid_grant',
    suberror: 'bad_token',
    text: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
  },
  51004: { error: 'invalid_grant', text: 'The user account {identifier} is not in the directory.' },
  53000: {
    error: 'invalid_grant',
    text: 'Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant.',
  },
  53001: {
    error: 'invalid_grant',
    text: 'Device is not in required device state: domain_joined. Conditional Access policy requires a domain joined device, and the device is not domain joined.',
  },
  53003: { error: 'invalid_grant', suberror: 'message_only', text: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.' },
  54005: { error: 'invalid_grant', text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' },
  65001: {
    error: 'invalid_grant',
    suberror: 'consent_required',
    text: "The user or administrator has not consented to use the application with ID '{appId}'. Send an interactive authorization request for this user and resource.",
  },
  70000: {
    error: 'invalid_grant',
    text: 'The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.',
  },
  70001: { error: 'unauthorized_client', text: "The application '{appId}' is disabled." },
  70003: { error: 'unsupported_grant_type', text: 'The app requested an unsupported grant type.' },
  70008: {
    error: 'invalid_grant',
    text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  70043: { error: 'invalid_grant', suberror: 'bad_token', text: 'The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.' },
  90094: { error: 'invalid_grant', suberror: 'consent_required', text: 'Admin consent is required for the permissions requested by this application.' },
  500011: { error: 'invalid_resource', text: 'The resource principal named {name} was not found in the tenant named {tenant}.' },
  500112: { error: 'invalid_grant', text: 'The reply address does not match the reply address provided when requesting Authorization code.' },
  501481: { error: 'invalid_grant', text: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.' },
  530032: { error: 'invalid_grant', text: 'User blocked due to risk on home tenant.' },
  650056: {
    error: 'invalid_grant',
    suberror: 'consent_required',
    text: 'Misconfigured application. This could be due to one of the following: the client has not listed any permissions, or the admin has not consented in the tenant.',
  },
  700016: { error: 'unauthorized_client', text: "Application with identifier '{appId}' was not found in the directory '{tenant}'." },
  700082: {
    error: 'invalid_grant',
    suberror: 'bad_token',
    text: 'The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00.',
  },
  700084: {
    error: 'invalid_grant',
    text: 'The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended.',
  },
  7000112: { error: 'unauthorized_client', text: "Application '{appId}' is disabled." },
  7000215: {
    error: 'invalid_client',
    text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{appId}'.",
  },
  7000222: { error: 'invalid_client', text: "The provided client secret keys for app '{appId}' are expired. Visit the Azure portal to create new keys for your app." },
  9002313: { error: 'invalid_request', text: 'Invalid request. Request is malformed or invalid.' },
};

/** HTTP status by OAuth error, as Entra ID sends it: invalid_client is the only 401. */
function microsoftStatus(error: string): number {
  if (error === 'invalid_client') return 401;
  if (error === 'temporarily_unavailable') return 503;
  if (error === 'server_error') return 500;
  return 400;
}

/** "2024-05-01 12:34:56Z", the timestamp format of Entra ID error bodies. */
function aadTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

export interface MicrosoftErrorOptions {
  error?: string;
  suberror?: string;
  claims?: string;
  description?: string;
  omitErrorCodes?: boolean;
  /** Fills `{appId}`, `{tenant}` … placeholders of the stock messages. */
  vars?: Record<string, string>;
}

export function microsoftError(aadsts: number, opts: MicrosoftErrorOptions = {}): StatusFailure & { body: Record<string, unknown> } {
  const info: AadstsInfo = AADSTS[aadsts] ?? { error: 'invalid_grant', text: 'The sandbox has no stock text for this code.' };
  const error = opts.error ?? info.error;
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = aadTimestamp();
  const text = (opts.description ?? info.text).replace(/\{(\w+)\}/g, (whole, key: string) => opts.vars?.[key] ?? whole);
  const body: Record<string, unknown> = {
    error,
    error_description: `AADSTS${aadsts}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
  };
  if (!opts.omitErrorCodes) body.error_codes = [aadsts];
  body.timestamp = timestamp;
  body.trace_id = traceId;
  body.correlation_id = correlationId;
  body.error_uri = `https://login.microsoftonline.com/error?code=${aadsts}`;
  const suberror = opts.suberror ?? info.suberror;
  if (suberror) body.suberror = suberror;
  if (opts.claims) body.claims = opts.claims;
  return { status: microsoftStatus(error), body };
}

/** Slack answers HTTP 200 with ok:false, except rate limiting: 429 with Retry-After. */
export function slackError(code: string, retryAfterSeconds = 1): StatusFailure & { body: { ok: false; error: string } } {
  if (code === 'ratelimited') {
    return { status: 429, body: { ok: false, error: code }, headers: { 'retry-after': String(retryAfterSeconds) } };
  }
  return { status: 200, body: { ok: false, error: code } };
}

/**
 * RFC 6749 §5.2 bodies as Webex and Zoom send them. Status: 401 for invalid_client (RFC 6749
 * allows it and both platforms use it), 400 otherwise. Zoom puts its message in `reason`;
 * Webex in `error_description` plus a `trackingId`.
 */
export function oauthError(error: string, description?: string, extra: Record<string, unknown> = {}): StatusFailure & { body: Record<string, unknown> } {
  const body: Record<string, unknown> = { error };
  if (description !== undefined) body.error_description = description;
  Object.assign(body, extra);
  return { status: error === 'invalid_client' ? 401 : 400, body };
}

export function zoomOauthError(error: string, reason: string): StatusFailure & { body: Record<string, unknown> } {
  // Zoom's token endpoint puts `reason` first and has no error_description.
  return { status: error === 'invalid_client' ? 401 : 400, body: { reason, error } };
}

export function webexOauthError(error: string, description: string): StatusFailure & { body: Record<string, unknown> } {
  return oauthError(error, description, { trackingId: `ROUTER_${randomUUID().toUpperCase()}` });
}

/** Webex REST errors (people, messages): `{message, errors:[{description}], trackingId}`. */
export function webexApiError(status: number, message: string): StatusFailure {
  return { status, body: { message, errors: [{ description: message }], trackingId: `ROUTER_${randomUUID().toUpperCase()}` } };
}

/** Zoom REST errors: `{code, message}`; 124 is the invalid-token code. */
export function zoomApiError(status: number, code: number, message: string): StatusFailure {
  return { status, body: { code, message } };
}

/** Bot Framework Connector errors: `{error: {code, message}}`. */
export function botConnectorError(status: number, code: string, message: string): StatusFailure {
  return { status, body: { error: { code, message } } };
}
