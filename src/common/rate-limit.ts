import { parseDuration } from '../config/duration';

/** `N` events per `windowMs`, as `RATE_LIMIT` and `FORCED_REFRESH_LIMIT` say it (SPEC §5). */
export interface Rate {
  count: number;
  windowMs: number;
}

const RATE = /^(\d+)\/(\d*(?:ms|s|m|h|d))$/;

/**
 * Parses `100/s`, `10/1m`, `500/1h` (any duration of `parseDuration`; a bare unit means one of
 * it). `off` is null: no limit. Undefined when malformed.
 */
export function parseRate(text: string): Rate | null | undefined {
  const value = text.trim();
  if (value === 'off') return null;
  const match = RATE.exec(value);
  if (!match) return undefined;
  const count = Number(match[1]);
  const windowMs = parseDuration(/^\d/.test(match[2]) ? match[2] : `1${match[2]}`);
  if (!Number.isSafeInteger(count) || count < 1 || windowMs === undefined) return undefined;
  return { count, windowMs };
}

/** Bounds the memory of a limiter keyed by outside values: past it, idle entries go first. */
const MAX_KEYS = 100_000;

/**
 * Token buckets per key: `rate.count` tokens per window, holding at most `burst` (SPEC §5: a
 * burst of twice the rate). `take` answers 0 when a token was taken, else the milliseconds
 * until one is there (nothing is taken then: a refused request costs the caller nothing more).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly rate: Rate,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = rate.count / rate.windowMs;
  }

  take(key: string): number {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_KEYS) this.evictFull(now);
      this.buckets.set(key, (bucket = { tokens: this.burst, at: now }));
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  /** Buckets that would be full again are the same as none. */
  private evictFull(now: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(key);
    if (this.buckets.size >= MAX_KEYS) this.buckets.clear();
  }
}

/**
 * At most `rate.count` events per key in any window of `rate.windowMs` (a sliding log of the
 * last `count` event times). Used where "10/1m" must mean ten in any minute, not ten plus
 * what a bucket refills meanwhile. Same `take` contract as `TokenBuckets`.
 */
export class SlidingWindows {
  private readonly logs = new Map<string, number[]>();

  constructor(
    readonly rate: Rate,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): number {
    const now = this.now();
    let times = this.logs.get(key);
    if (!times) {
      if (this.logs.size >= MAX_KEYS) this.evictIdle(now);
      this.logs.set(key, (times = []));
    }
    while (times.length > 0 && times[0] <= now - this.rate.windowMs) times.shift();
    if (times.length < this.rate.count) {
      times.push(now);
      return 0;
    }
    return Math.max(1, times[0] + this.rate.windowMs - now);
  }

  private evictIdle(now: number): void {
    for (const [key, times] of this.logs) if (times.length === 0 || times[times.length - 1] <= now - this.rate.windowMs) this.logs.delete(key);
    if (this.logs.size >= MAX_KEYS) this.logs.clear();
  }
}
