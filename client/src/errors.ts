/** An RFC 9457 problem as the service sends it (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

/** Every failure the service answered (status ≥ 400) that has no more specific class. */
export class AutoHealError extends Error {
  override name = 'AutoHealError';
  readonly status: number;
  /** The stable problem type, e.g. `/problems/not-found`. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The whole problem body, extension members included. */
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.problem = problem;
  }
}

/**
 * 409 `/problems/reauth-required`: the grant cannot be refreshed. The service has opened
 * `incidentId` and told `audience` (the user or a tenant admin); for the user audience the
 * `connection.broken` event carries the re-sync `url` a relay can show.
 */
export class ReauthRequiredError extends AutoHealError {
  override name = 'ReauthRequiredError';
  readonly condition: string;
  readonly audience: 'user' | 'admin';
  readonly incidentId: string | null;
  readonly connectionId: string | undefined;

  constructor(problem: Problem) {
    super(problem);
    this.condition = typeof problem.condition === 'string' ? problem.condition : 'unknown';
    this.audience = problem.audience === 'admin' ? 'admin' : 'user';
    this.incidentId = typeof problem.incidentId === 'string' ? problem.incidentId : null;
    this.connectionId = typeof problem.connectionId === 'string' ? problem.connectionId : undefined;
  }
}

/**
 * 503: the platform (`/problems/upstream-unavailable`), our OAuth client
 * (`/problems/client-misconfigured`) or the service itself (`/problems/service-unavailable`)
 * cannot give a valid token now. Retry after `retryAfterSeconds`.
 */
export class UnavailableError extends AutoHealError {
  override name = 'UnavailableError';
  constructor(
    problem: Problem,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(problem);
  }
}

/** 429 `/problems/rate-limited`: the key's rate limit, or FORCED_REFRESH_LIMIT of a connection. */
export class RateLimitedError extends AutoHealError {
  override name = 'RateLimitedError';
  constructor(
    problem: Problem,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(problem);
  }
}

/** A webhook delivery that does not verify: missing headers, stale timestamp, no matching signature, or not an event. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** `Retry-After` as whole seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The typed error of a problem answer. */
export function errorOf(problem: Problem, retryAfterSeconds: number | undefined): AutoHealError {
  if (problem.status === 409 && problem.type === '/problems/reauth-required') return new ReauthRequiredError(problem);
  if (problem.status === 429) return new RateLimitedError(problem, retryAfterSeconds);
  if (problem.status === 503) return new UnavailableError(problem, retryAfterSeconds);
  return new AutoHealError(problem);
}
