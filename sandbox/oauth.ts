/** The authorization-code dance shared by all four platforms; each maps the outcomes to its own errors. */
import { ServerResponse } from 'node:http';
import { redirect, Req, sendJson } from './http';
import { browserUser, withParams } from './platform';
import { CODE_LIFETIME_MS, CodeRecord, PlatformState, randomToken, s256 } from './state';

export interface AuthorizeOptions {
  clientId: string;
  requirePkce: boolean;
  /** What the platform puts in error_description when the user declines. */
  denyDescription: string;
  denyExtra?: Record<string, string>;
  codePrefix?: string;
}

function errorPage(res: ServerResponse, message: string): void {
  sendJson(res, 400, `<!doctype html><title>Sandbox sign-in error</title><p>${message}</p>`);
}

export function splitScopes(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((s) => s.length > 0);
}

/** Auto-approves as the signed-in (or login_hint) user and redirects back with `code` and `state`. */
export function authorize(state: PlatformState, req: Req, res: ServerResponse, opts: AuthorizeOptions): void {
  const q = req.query;
  const redirectUri = q.get('redirect_uri');
  // Real platforms show their own error page (no redirect) for an unknown client or missing redirect_uri.
  if (q.get('client_id') !== opts.clientId) return errorPage(res, `unknown client_id ${q.get('client_id') ?? ''}`);
  if (!redirectUri) return errorPage(res, 'redirect_uri is required');
  const back = (params: Record<string, string | undefined>): void => redirect(res, withParams(redirectUri, { ...params, state: q.get('state') ?? undefined }));
  if (state.denyConsent) {
    return back({ error: 'access_denied', error_description: opts.denyDescription, ...opts.denyExtra });
  }
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (opts.requirePkce && !challenge) {
    return back({ error: 'invalid_request', error_description: 'AADSTS9002325: Proof Key for Code Exchange is required.' });
  }
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return back({ error: 'invalid_request', error_description: `Unsupported code_challenge_method ${method}` });
  }
  const user = browserUser(state, q.get('login_hint'));
  if (!user) return errorPage(res, `sandbox: nobody is signed in on ${state.platform}; call control.signIn first`);
  const code = (opts.codePrefix ?? '') + randomToken(32);
  const record: CodeRecord = {
    user,
    clientId: opts.clientId,
    redirectUri,
    scopes: splitScopes(q.get('user_scope') ?? q.get('scope') ?? undefined),
    botScopes: q.has('user_scope') ? splitScopes(q.get('scope') ?? undefined) : undefined,
    codeChallenge: challenge,
    codeChallengeMethod: method,
    nonce: q.get('nonce') ?? undefined,
    expiresAt: Date.now() + CODE_LIFETIME_MS,
    used: false,
  };
  state.codes.set(code, record);
  back({ code });
}

export type CodeProblem = 'unknown' | 'used' | 'expired' | 'redirect_mismatch' | 'pkce_mismatch';

/** Redeems a code once. A replayed code also stays dead, as on every real platform. */
export function redeemCode(state: PlatformState, form: Record<string, string>): { ok: true; code: CodeRecord } | { ok: false; problem: CodeProblem; code?: CodeRecord } {
  const code = state.codes.get(form.code ?? '');
  if (!code) return { ok: false, problem: 'unknown' };
  if (code.used) return { ok: false, problem: 'used', code };
  code.used = true;
  if (code.expiresAt < Date.now()) return { ok: false, problem: 'expired', code };
  if ((form.redirect_uri ?? '') !== code.redirectUri) return { ok: false, problem: 'redirect_mismatch', code };
  if (code.codeChallenge !== undefined) {
    const verifier = form.code_verifier ?? '';
    const computed = code.codeChallengeMethod === 'S256' ? s256(verifier) : verifier;
    if (computed !== code.codeChallenge) return { ok: false, problem: 'pkce_mismatch', code };
  }
  return { ok: true, code };
}
