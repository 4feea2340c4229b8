import { errorOf, parseRetryAfter, Problem } from './errors.js';

export interface ClientOptions {
  /** Where the service listens, e.g. `https://autoheal.internal` (a path prefix is kept). */
  baseUrl: string;
  /** A relay key (`role: relay`); admin keys work for the read calls too. */
  apiKey: string;
  /** The fetch to use (a proxy, a test double); the global fetch of Node ≥ 20 otherwise. */
  fetch?: typeof globalThis.fetch;
  /** The clock, in milliseconds since the epoch; the cache and Retry-After dates read it. */
  now?: () => number;
  /** Per request; default 10 s. A token call's own upstream refresh is bounded at 10 s by the service. */
  timeoutMs?: number;
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

/** One HTTP exchange with the service: JSON in and out, problems thrown as typed errors. */
export class Transport {
  readonly now: () => number;
  private readonly base: string;
  private readonly fetch: typeof globalThis.fetch;
  private readonly timeoutMs: number;
  private readonly authorization: string;

  constructor(options: ClientOptions) {
    if (!options.baseUrl) throw new TypeError('baseUrl is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.authorization = `Bearer ${options.apiKey}`;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json, application/problem+json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const res = await this.fetch(this.base + path + queryString(options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (!res.ok) throw errorOf(problemOf(res, text), parseRetryAfter(res.headers.get('retry-after'), this.now()));
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A path segment (ids are UUIDs, but nothing the caller passes can change the route). */
export const segment = (value: string): string => encodeURIComponent(value);

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The problem body, or one made from the status when a proxy in between answered something else. */
function problemOf(res: Response, text: string): Problem {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body === 'object' && body !== null && typeof (body as Problem).type === 'string' && typeof (body as Problem).title === 'string') {
    return { ...(body as Problem), status: res.status };
  }
  return { type: 'about:blank', title: res.statusText || `HTTP ${res.status}`, status: res.status, ...(text ? { detail: text.slice(0, 200) } : {}) };
}
