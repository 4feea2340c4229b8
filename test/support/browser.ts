/**
 * A browser's cookie jar around fetch, as much of RFC 6265 as our pages rely on: host-only
 * cookies (the port does not matter, as in browsers), Path prefix matching, Max-Age/Expires,
 * and Secure cookies sent only over https. Each instance is one browser: the victim and the
 * attacker of a test are two instances.
 */
export interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt?: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: string;
}

export class Browser {
  private readonly jar = new Map<string, StoredCookie>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookiesFor(target)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    if (cookie) headers.set('cookie', headers.has('cookie') ? `${headers.get('cookie')}; ${cookie}` : cookie);
    const res = await fetch(url, { redirect: 'manual', ...init, headers });
    for (const line of res.headers.getSetCookie()) this.store(target, line);
    return res;
  }

  /** The cookies this browser would send to `url`. */
  cookiesFor(url: URL): StoredCookie[] {
    const now = Date.now();
    return [...this.jar.values()].filter(
      (c) => c.host === url.hostname && pathMatches(url.pathname, c.path) && (c.expiresAt === undefined || c.expiresAt > now) && (!c.secure || url.protocol === 'https:'),
    );
  }

  private store(from: URL, line: string): void {
    const [pair, ...attributes] = line.split(';').map((p) => p.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: StoredCookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), host: from.hostname, path: defaultPath(from), secure: false, httpOnly: false };
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.split('=');
      const value = rest.join('=');
      switch (key.toLowerCase()) {
        case 'path':
          if (value.startsWith('/')) cookie.path = value;
          break;
        case 'max-age':
          cookie.expiresAt = Date.now() + Number(value) * 1000;
          break;
        case 'expires':
          cookie.expiresAt ??= Date.parse(value);
          break;
        case 'secure':
          cookie.secure = true;
          break;
        case 'httponly':
          cookie.httpOnly = true;
          break;
        case 'samesite':
          cookie.sameSite = value;
          break;
      }
    }
    const key = `${cookie.host} ${cookie.path} ${cookie.name}`;
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) this.jar.delete(key);
    else this.jar.set(key, cookie);
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}

function defaultPath(url: URL): string {
  const last = url.pathname.lastIndexOf('/');
  return last <= 0 ? '/' : url.pathname.slice(0, last);
}
