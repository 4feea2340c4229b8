import { AutoHealError, RateLimitedError, UnavailableError } from './errors.js';
import type { AutoHealEvent, EventType } from './events.js';
import type { Transport } from './http.js';
import type { Page } from './types.js';

export interface ListEventsOptions {
  /** Events created at or after this time (used when there is no cursor). */
  since?: string | Date;
  type?: EventType;
  tenantId?: string;
  /** A `nextCursor` the service returned. */
  cursor?: string;
  /** 1–500; default 100. */
  limit?: number;
  signal?: AbortSignal;
}

export interface PollOptions {
  /** Where to resume: a cursor persisted from `onCursor` (or poll's answer). Without one, `since` (or the whole log). */
  cursor?: string;
  since?: string | Date;
  /** Only these types reach `onEvent` (one type is filtered by the service, several here). */
  types?: readonly EventType[];
  tenantId?: string;
  /** Page size, 1–500; default 100. */
  limit?: number;
  /** The pause when caught up; default 5 s. */
  intervalMs?: number;
  /** Ends the poll: `poll` then resolves with the cursor to resume from. */
  signal?: AbortSignal;
  /** Called after every event of a page was handled, with the cursor that resumes after them: persist it. */
  onCursor?: (cursor: string) => void | Promise<void>;
  /** A failed page fetch that will be retried (503, 429, the network): after `delayMs`. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

const MAX_BACKOFF_MS = 60_000;

/** `GET /v1/events`: one page, and a poller that follows the log. */
export class Events {
  constructor(private readonly http: Transport) {}

  list(options: ListEventsOptions = {}): Promise<Page<AutoHealEvent>> {
    const since = options.since instanceof Date ? options.since.toISOString() : options.since;
    return this.http.request<Page<AutoHealEvent>>('GET', '/v1/events', {
      query: { since, type: options.type, tenantId: options.tenantId, cursor: options.cursor, limit: options.limit },
      signal: options.signal,
    });
  }

  /**
   * Follows the event log: `onEvent` gets each event once, in log order, one at a time (it is
   * awaited); pages follow `nextCursor` at once while the log is behind and every `intervalMs`
   * once caught up. Failed fetches that can pass (503, 429, the network) are retried after
   * `Retry-After` or a backoff; any other failure of a fetch, or of `onEvent`, ends the poll
   * with that error, and the last cursor given to `onCursor` resumes it (the events of the
   * unfinished page come again: at least once, like webhooks). Resolves with the cursor when
   * `signal` aborts.
   */
  async poll(options: PollOptions, onEvent: (event: AutoHealEvent) => void | Promise<void>): Promise<string | undefined> {
    const limit = options.limit ?? 100;
    const intervalMs = options.intervalMs ?? 5_000;
    const signal = options.signal;
    const types = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
    const serverType = options.types?.length === 1 ? options.types[0] : undefined;
    let cursor = options.cursor;
    // The ids handed out since `cursor`: a page without nextCursor (an older service's last
    // page) is asked for again from the same place, and these are not handed out twice.
    let seen = new Set<string>();
    let failures = 0;
    while (!signal?.aborted) {
      let page: Page<AutoHealEvent>;
      try {
        page = await this.list({ cursor, since: cursor ? undefined : options.since, type: serverType, tenantId: options.tenantId, limit, signal });
        failures = 0;
      } catch (error) {
        if (signal?.aborted) break;
        if (!retryable(error)) throw error;
        const delayMs = retryDelay(error, ++failures, intervalMs);
        options.onRetry?.(error, delayMs);
        await sleep(delayMs, signal);
        continue;
      }
      for (const event of page.items) {
        if (signal?.aborted) return cursor;
        if (seen.has(event.id)) continue;
        if (!types || types.has(event.type)) await onEvent(event);
        seen.add(event.id);
      }
      if (page.nextCursor && page.nextCursor !== cursor) {
        cursor = page.nextCursor;
        seen = new Set();
        await options.onCursor?.(cursor);
      }
      const behind = page.nextCursor !== undefined && page.items.length >= limit;
      if (!behind) await sleep(intervalMs, signal);
    }
    return cursor;
  }
}

function retryable(error: unknown): boolean {
  return error instanceof UnavailableError || error instanceof RateLimitedError || !(error instanceof AutoHealError);
}

function retryDelay(error: unknown, failures: number, intervalMs: number): number {
  const retryAfter = error instanceof UnavailableError || error instanceof RateLimitedError ? error.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) return Math.min(MAX_BACKOFF_MS, Math.max(1, retryAfter) * 1000);
  return Math.min(MAX_BACKOFF_MS, Math.max(100, intervalMs) * 2 ** Math.min(failures - 1, 10));
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
