/** The Auto Heal matrix of SPEC §3: condition identifiers and their audiences are fixed. */
export const CONDITIONS = [
  'consent_required',
  'conditional_access_blocked',
  'app_disabled',
  'user_deleted',
  'user_disabled',
  'grant_revoked',
  'mfa_enrollment_required',
  'refresh_token_inactive',
] as const;

export type Condition = (typeof CONDITIONS)[number];
export type Audience = 'admin' | 'user';

export const AUDIENCE: Readonly<Record<Condition, Audience>> = {
  consent_required: 'admin',
  conditional_access_blocked: 'admin',
  app_disabled: 'admin',
  user_deleted: 'admin',
  user_disabled: 'admin',
  grant_revoked: 'user',
  mfa_enrollment_required: 'user',
  refresh_token_inactive: 'user',
};

/**
 * What a refresh failure means. `condition` failures are incidents; `transient` ones are
 * retried with backoff; `client_misconfigured` is our own OAuth client and an operator's job.
 */
export type Classification =
  | { kind: 'transient'; retryAfterMs?: number; reason: string }
  | { kind: 'client_misconfigured'; reason: string }
  | { kind: 'condition'; condition: Condition; audience: Audience; reason: string; unclassified?: string };
