/**
 * Where a connect link's success page may send the person next (SPEC §5): https anywhere,
 * plain http only to this machine, since anything else would cross the network in clear.
 */

/** 127.0.0.0/8, ::1 and `localhost`, as WHATWG URL spells a parsed host (so `127.1` is already `127.0.0.1`). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The scheme rule shared by origins and return URLs; a reason when it fails. */
function schemeProblem(url: URL): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'must be https (http only for loopback hosts)';
  return 'must be https (http only for loopback hosts)';
}

/**
 * `value` as `URL.origin` when it is an origin and nothing more (no path, query, fragment or
 * credentials: a trailing path would be silently dropped, which is worse than saying no),
 * or the reason it is not.
 */
export function parseOrigin(value: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'must be an origin such as https://app.example.com' };
  }
  const scheme = schemeProblem(url);
  if (scheme) return { problem: scheme };
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || /[?#]/.test(value)) {
    return { problem: 'must be an origin only: scheme, host and optional port' };
  }
  return { origin: url.origin };
}

/** `value` as a URL when it may be a return URL for a key holding `origins`, or the reason not. */
export function parseReturnUrl(value: string, origins: readonly string[]): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'must be an absolute URL' };
  }
  const scheme = schemeProblem(url);
  if (scheme) return { problem: scheme };
  if (url.username || url.password) return { problem: 'must not carry credentials' };
  if (!origins.includes(url.origin)) return { problem: `origin ${url.origin} is not one of this API key's returnOrigins` };
  return { url: url.href };
}
