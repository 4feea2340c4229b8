import { checkServiceUrl, DEFAULT_BOT_SERVICE_HOSTS, hostMatches, parseHostPatterns, serviceUrlPolicy } from './service-url';

const policy = serviceUrlPolicy(DEFAULT_BOT_SERVICE_HOSTS, 'http://127.0.0.1:4100/');
const allowed = (url: string) => checkServiceUrl(policy, url).allowed;
const reason = (url: string) => {
  const check = checkServiceUrl(policy, url);
  return check.allowed ? undefined : check.reason;
};

describe('Teams serviceUrl allow-list', () => {
  it('allows the documented connector hosts over https, in any case', () => {
    for (const url of [
      'https://smba.trafficmanager.net/amer/',
      'https://smba.trafficmanager.net/emea',
      'https://SMBA.TrafficManager.NET/teams/',
      'https://europe.webchat.botframework.com/',
      'https://a.b.botframework.com/x/',
      'https://smba.infra.gcc.teams.microsoft.com/',
      'https://smba.infra.gov.teams.microsoft.us/',
      'https://smba.infra.dod.teams.microsoft.us/',
      'https://smba.trafficmanager.net:443/amer/',
    ]) {
      expect([url, allowed(url)]).toEqual([url, true]);
    }
  });

  it('refuses look-alike hosts of the wildcard', () => {
    for (const url of [
      'https://botframework.com/',
      'https://evilbotframework.com/',
      'https://botframework.com.evil.example/',
      'https://x.botframework.com.evil.example/',
      'https://smba.trafficmanager.net.evil.example/',
      'https://evil.example/smba.trafficmanager.net/',
      'https://evil.example/?https://smba.trafficmanager.net/',
      'https://evil.example#@smba.trafficmanager.net/',
    ]) {
      expect([url, allowed(url)]).toEqual([url, false]);
    }
  });

  it('reads user info as user info, not as the host', () => {
    expect(reason('https://smba.trafficmanager.net@evil.example/')).toMatch(/user info/);
    expect(reason('https://smba.trafficmanager.net:x@evil.example/')).toMatch(/user info/);
    // Even on an allowed host: a URL with credentials is never one Microsoft hands out.
    expect(reason('https://user@smba.trafficmanager.net/')).toMatch(/user info/);
    // The WHATWG parser reads a backslash as a slash for https: the host is evil.example.
    expect(allowed('https://evil.example\\@smba.trafficmanager.net/')).toBe(false);
  });

  it('refuses http, other ports and a trailing dot on the connector hosts', () => {
    expect(reason('http://smba.trafficmanager.net/amer/')).toMatch(/https/);
    expect(reason('https://smba.trafficmanager.net:8443/amer/')).toMatch(/port/);
    expect(reason('https://x.botframework.com:444/')).toMatch(/port/);
    expect(reason('https://smba.trafficmanager.net./amer/')).toMatch(/dot/);
    expect(reason('ftp://smba.trafficmanager.net/')).toMatch(/https/);
    expect(reason('not a url')).toMatch(/not a URL/);
    expect(reason('https://127.0.0.1/')).toMatch(/not a Bot Framework service host/);
    expect(reason('https://[::1]/')).toMatch(/not a Bot Framework service host/);
  });

  it('allows exactly the origin of MICROSOFT_BOT_SERVICE_URL, http included', () => {
    expect(allowed('http://127.0.0.1:4100/')).toBe(true);
    expect(allowed('http://127.0.0.1:4100/v3/somewhere')).toBe(true);
    expect(allowed('http://127.0.0.1:4101/')).toBe(false);
    expect(allowed('https://127.0.0.1:4100/')).toBe(false);
    expect(allowed('http://localhost:4100/')).toBe(false);
    expect(allowed('http://127.0.0.1/')).toBe(false);
    expect(allowed('http://x@127.0.0.1:4100/')).toBe(false);
    // Without a configured URL no http origin is allowed at all.
    expect(checkServiceUrl(serviceUrlPolicy(DEFAULT_BOT_SERVICE_HOSTS, undefined), 'http://127.0.0.1:4100/').allowed).toBe(false);
    // The default http port is the same origin as none.
    expect(checkServiceUrl(serviceUrlPolicy([], 'http://sandbox.test/'), 'http://sandbox.test:80/x').allowed).toBe(true);
  });

  it('hands back the parsed URL it decided on', () => {
    const check = checkServiceUrl(policy, 'https://SMBA.trafficmanager.net/amer');
    expect(check.allowed && check.url.hostname).toBe('smba.trafficmanager.net');
  });

  it('matches wildcards on whole labels only', () => {
    expect(hostMatches('*.botframework.com', 'x.botframework.com')).toBe(true);
    expect(hostMatches('*.botframework.com', 'botframework.com')).toBe(false);
    expect(hostMatches('*.botframework.com', 'xbotframework.com')).toBe(false);
    expect(hostMatches('smba.trafficmanager.net', 'smba.trafficmanager.net')).toBe(true);
    expect(hostMatches('smba.trafficmanager.net', 'x.smba.trafficmanager.net')).toBe(false);
  });

  it('parses MICROSOFT_BOT_SERVICE_HOSTS, replacing the defaults, and refuses what is not a host pattern', () => {
    expect(parseHostPatterns(' Connector.Example.com , *.Bots.Example ')).toEqual(['connector.example.com', '*.bots.example']);
    const custom = serviceUrlPolicy(parseHostPatterns('connector.example.com') ?? [], undefined);
    expect(checkServiceUrl(custom, 'https://connector.example.com/').allowed).toBe(true);
    expect(checkServiceUrl(custom, 'https://smba.trafficmanager.net/amer/').allowed).toBe(false);
    for (const bad of ['', ' , ', '*', '*.com', 'com', 'https://x.example', 'x.example:443', 'x.example/', 'a..example', '*.*.example', 'user@x.example', '-x.example']) {
      expect([bad, parseHostPatterns(bad)]).toEqual([bad, undefined]);
    }
  });
});
