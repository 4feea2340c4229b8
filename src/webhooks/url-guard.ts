import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * SPEC §11 webhook URL rules, in one place: checked when an endpoint is created or changed,
 * and again by the delivery worker before each delivery (DNS may have changed since).
 * https only; no credentials; and, unless `WEBHOOK_ALLOW_PRIVATE_URLS`, every address the
 * host resolves to must be public. The WHATWG URL parser has already turned `127.1`,
 * `0x7f000001` and `2130706433` into `127.0.0.1`; IPv4-mapped and NAT64 IPv6 addresses are
 * judged by the IPv4 address they carry.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** How a host name becomes addresses; `node:dns` lookup in production, injected in tests. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export interface UrlGuardOptions {
  allowPrivate: boolean;
  resolve?: Resolver;
}

export type UrlVerdict = { ok: true; url: URL; addresses: string[] } | { ok: false; problem: string };

const MAX_URL = 2048;
const DNS_TIMEOUT_MS = 5000;

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

type V4Rule = [base: number, bits: number, kind: string];
const V4_RULES: readonly V4Rule[] = [
  [v4('169.254.169.254'), 32, 'a cloud metadata address'],
  [v4('0.0.0.0'), 8, 'an unspecified address'],
  [v4('127.0.0.0'), 8, 'a loopback address'],
  [v4('10.0.0.0'), 8, 'a private address'],
  [v4('172.16.0.0'), 12, 'a private address'],
  [v4('192.168.0.0'), 16, 'a private address'],
  [v4('169.254.0.0'), 16, 'a link-local address'],
  [v4('100.64.0.0'), 10, 'a shared (CGNAT) address'],
  [v4('192.0.0.0'), 24, 'a reserved address'],
  [v4('198.18.0.0'), 15, 'a reserved address'],
  [v4('224.0.0.0'), 4, 'a multicast address'],
  [v4('240.0.0.0'), 4, 'a reserved address'],
];

function v4(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function classifyV4(value: number): string | undefined {
  for (const [base, bits, kind] of V4_RULES) {
    const size = 2 ** (32 - bits);
    if (Math.floor(value / size) === Math.floor(base / size)) return kind;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address in any textual form (`::`, embedded IPv4). */
function v6Groups(text: string): number[] | undefined {
  let s = text.toLowerCase().split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]);
    s = `${s.slice(0, -dotted[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff) ? undefined : groups;
}

function classifyV6(text: string): string | undefined {
  const g = v6Groups(text);
  if (!g) return 'not an address';
  const embedded = () => g[6] * 65536 + g[7];
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return 'an unspecified address';
  if (zeros(7) && g[7] === 1) return 'a loopback address';
  if (zeros(5) && g[5] === 0xffff) return classifyV4(embedded()); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeros(6)) return classifyV4(embedded()) ?? 'a reserved address'; // ::a.b.c.d, IPv4-compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embedded()); // NAT64
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'a cloud metadata address';
  if ((g[0] & 0xfe00) === 0xfc00) return 'a private address';
  if ((g[0] & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g[0] & 0xffc0) === 0xfec0) return 'a private address';
  if ((g[0] & 0xff00) === 0xff00) return 'a multicast address';
  return undefined;
}

/**
 * Why an IP address may not receive webhooks (`'a loopback address'`, …), or undefined for a
 * public one. Anything that is not an IP literal is refused as `not an address`.
 */
export function privateAddressKind(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return classifyV4(v4(bare));
  if (family === 6) return classifyV6(bare);
  return 'not an address';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('DNS timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The verdict on a webhook URL; `addresses` are the checked ones (empty when private URLs are allowed). */
export async function checkWebhookUrl(raw: string, options: UrlGuardOptions): Promise<UrlVerdict> {
  if (raw.length > MAX_URL) return { ok: false, problem: `must be at most ${MAX_URL} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(options.allowPrivate && url.protocol === 'http:')) {
    return { ok: false, problem: options.allowPrivate ? 'must be an https:// or http:// URL' : 'must be an https:// URL' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, problem: 'must not carry credentials (user:password@)' };
  if (url.hash !== '') return { ok: false, problem: 'must not have a #fragment' };
  if (options.allowPrivate) return { ok: true, url, addresses: [] };

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const name = host.replace(/\.$/, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return { ok: false, problem: 'must not point at a loopback address (localhost)' };
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = (await withTimeout((options.resolve ?? systemResolver)(host), DNS_TIMEOUT_MS)).map((a) => a.address);
    } catch {
      return { ok: false, problem: `host ${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, problem: `host ${host} does not resolve` };
  }
  for (const address of addresses) {
    const kind = privateAddressKind(address);
    if (kind) return { ok: false, problem: `must not resolve to ${kind} (${address}); set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow it` };
  }
  return { ok: true, url, addresses };
}
