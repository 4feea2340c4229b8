/**
 * Where the Bot Framework token may go (SPEC §8). The token is a credential of the whole
 * bot, valid in every customer tenant, so a Teams `serviceUrl` is a place we hand it to:
 * only Microsoft's connector hosts, and the operator's own `MICROSOFT_BOT_SERVICE_URL`.
 * Every decision is made on the WHATWG parse of the URL, the same parse `node:http` sends
 * to, so the host we check is the host we connect to.
 */

/** Microsoft's Bot Connector hosts: public cloud, then GCC, GCC High and DoD. */
export const DEFAULT_BOT_SERVICE_HOSTS: readonly string[] = [
  'smba.trafficmanager.net',
  '*.botframework.com',
  'smba.infra.gcc.teams.microsoft.com',
  'smba.infra.gov.teams.microsoft.us',
  'smba.infra.dod.teams.microsoft.us',
];

/** A DNS name in lower case: labels of letters, digits and inner hyphens, at least two of them. */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `MICROSOFT_BOT_SERVICE_HOSTS`: comma-separated host names, `*.` in front for any
 * subdomain. Undefined when one entry is not a host pattern, so a typo stops the start
 * instead of silently allowing nothing (or too much).
 */
export function parseHostPatterns(text: string): string[] | undefined {
  const patterns = text
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p.length > 0);
  if (patterns.length === 0) return undefined;
  const valid = patterns.every((p) => HOST_NAME.test(p.startsWith('*.') ? p.slice(2) : p));
  return valid ? patterns : undefined;
}

export interface ServiceUrlPolicy {
  /** Lower-case host patterns, https only, default port only. */
  hosts: readonly string[];
  /** The origin of `MICROSOFT_BOT_SERVICE_URL` (the sandbox in tests), allowed as it is, http included. */
  configuredOrigin?: string;
}

export function serviceUrlPolicy(hosts: readonly string[], configuredServiceUrl: string | undefined): ServiceUrlPolicy {
  const configuredOrigin = configuredServiceUrl ? safeParse(configuredServiceUrl)?.origin : undefined;
  return { hosts, ...(configuredOrigin && configuredOrigin !== 'null' ? { configuredOrigin } : {}) };
}

export type ServiceUrlCheck = { allowed: true; url: URL } | { allowed: false; reason: string };

/** Whether the Bot Framework token may be sent to `text`; the reason names the rule it broke, never a token. */
export function checkServiceUrl(policy: ServiceUrlPolicy, text: string): ServiceUrlCheck {
  const url = safeParse(text);
  if (!url) return { allowed: false, reason: 'is not a URL' };
  // `https://smba.trafficmanager.net@evil.example/` names evil.example; credentials in a URL are never ours.
  if (url.username !== '' || url.password !== '') return { allowed: false, reason: 'must not carry user info (user@host)' };
  if (policy.configuredOrigin !== undefined && url.origin === policy.configuredOrigin) return { allowed: true, url };
  if (url.protocol !== 'https:') return { allowed: false, reason: 'must be https (http only for the origin of MICROSOFT_BOT_SERVICE_URL)' };
  // Microsoft's connectors listen on 443; another port on their host is not one of them.
  if (url.port !== '') return { allowed: false, reason: 'must not name a port' };
  // A trailing dot is the same DNS name, but no connector URL has one: refusing it keeps one spelling per host.
  if (url.hostname.endsWith('.')) return { allowed: false, reason: 'must not end the host with a dot' };
  if (!policy.hosts.some((pattern) => hostMatches(pattern, url.hostname))) return { allowed: false, reason: `host ${url.hostname} is not a Bot Framework service host` };
  return { allowed: true, url };
}

/** `*.botframework.com` matches `x.botframework.com` and `a.b.botframework.com`, never `botframework.com` or `evilbotframework.com`. */
export function hostMatches(pattern: string, hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (!pattern.startsWith('*.')) return host === pattern;
  const suffix = pattern.slice(1);
  return host.length > suffix.length && host.endsWith(suffix);
}

function safeParse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
