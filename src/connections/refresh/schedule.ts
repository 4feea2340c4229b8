/** The refresh timing rules of SPEC §3 and §7, as pure functions. */

const MIN_LEAD_MS = 5 * 60_000;
const BACKOFF_START_MS = 5_000;
const BACKOFF_CAP_MS = 60_000;

/**
 * When to refresh a token ahead of its expiry: lead = 20 % of its lifetime (at least
 * 5 min), ± a jitter of at most 10 % of the lead. Due at once when the lead is at least
 * the lifetime.
 */
export function nextRefreshAt(issuedAt: Date, expiresAt: Date, random: () => number = Math.random): Date {
  const lifetime = expiresAt.getTime() - issuedAt.getTime();
  const lead = Math.max(0.2 * lifetime, MIN_LEAD_MS);
  if (lead >= lifetime) return issuedAt;
  const jitter = (random() * 2 - 1) * 0.1 * lead;
  return new Date(expiresAt.getTime() - lead + jitter);
}

/**
 * Delay before retry `attempt` (1-based) after a transient failure: 5 s doubling to a
 * 60 s cap, with up to 20 % jitter taken off (so the cap holds and replicas spread out).
 * A platform's `Retry-After` wins when longer, still capped so that after an outage every
 * due connection is retried within 60 s of its end.
 */
export function backoffMs(attempt: number, retryAfterMs = 0, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** Math.max(0, attempt - 1));
  const jittered = base * (1 - 0.2 * random());
  return Math.round(Math.min(BACKOFF_CAP_MS, Math.max(jittered, retryAfterMs)));
}

/** Seconds for a `Retry-After` header: whole seconds until `at`, at least 1. */
export function retryAfterSeconds(at: Date | null | undefined, now = Date.now()): number {
  return Math.max(1, Math.ceil(((at?.getTime() ?? now) - now) / 1000));
}
