import { checkWebhookUrl, privateAddressKind, type Resolver } from './url-guard';

/** Answers every name with the given addresses; records what it was asked. */
function resolverOf(addresses: string[]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const fn = (host: string) => {
    asked.push(host);
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(fn, { asked });
}

const PUBLIC = ['93.184.216.34'];

describe('privateAddressKind', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.0.1', 'a private address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['169.254.1.1', 'a link-local address'],
    ['100.64.0.1', 'a shared (CGNAT) address'],
    ['0.0.0.0', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['::', 'an unspecified address'],
    ['::1', 'a loopback address'],
    ['0:0:0:0:0:0:0:1', 'a loopback address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['[::ffff:169.254.169.254]', 'a cloud metadata address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['64:ff9b::a00:1', 'a private address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['fc00::1', 'a private address'],
    ['fdff:ffff::1', 'a private address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['febf::1', 'a link-local address'],
    ['ff02::1', 'a multicast address'],
    ['127.1', 'not an address'],
    ['example.com', 'not an address'],
  ])('%s is %s', (address, kind) => {
    expect(privateAddressKind(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '169.253.255.255', '2606:4700::1111', '::ffff:8.8.8.8', '2001:4860:4860::8888'])('%s is public', (address) => {
    expect(privateAddressKind(address)).toBeUndefined();
  });
});

describe('checkWebhookUrl', () => {
  it.each(['https://127.1/', 'https://0x7f000001/', 'https://2130706433/', 'https://0177.0.0.1/', 'https://[::ffff:127.0.0.1]/', 'https://[::1]:8443/hook', 'https://127.0.0.1/'])(
    '%s is loopback however it is written, without asking DNS',
    async (url) => {
      const resolve = resolverOf(PUBLIC);
      const verdict = await checkWebhookUrl(url, { allowPrivate: false, resolve });
      expect(verdict).toEqual({ ok: false, problem: expect.stringContaining('loopback') });
      expect(resolve.asked).toEqual([]);
    },
  );

  it.each(['https://localhost/', 'https://localhost./', 'https://LOCALHOST:9000/', 'https://api.localhost/'])('%s is refused by name', async (url) => {
    const verdict = await checkWebhookUrl(url, { allowPrivate: false, resolve: resolverOf(PUBLIC) });
    expect(verdict).toEqual({ ok: false, problem: expect.stringContaining('loopback') });
  });

  it('checks the addresses a name resolves to, every one of them', async () => {
    expect(await checkWebhookUrl('https://intranet.example/', { allowPrivate: false, resolve: resolverOf(['10.0.0.7']) })).toEqual({
      ok: false,
      problem: expect.stringContaining('a private address (10.0.0.7)'),
    });
    const mixed = resolverOf(['93.184.216.34', 'fd00:ec2::254']);
    expect(await checkWebhookUrl('https://rebind.example/', { allowPrivate: false, resolve: mixed })).toEqual({ ok: false, problem: expect.stringContaining('metadata') });
    expect(mixed.asked).toEqual(['rebind.example']);
    const ok = await checkWebhookUrl('https://relay.example/hooks?x=1', { allowPrivate: false, resolve: resolverOf(PUBLIC) });
    expect(ok).toMatchObject({ ok: true, addresses: PUBLIC });
  });

  it('refuses a name that does not resolve, or resolves to nothing', async () => {
    const failing: Resolver = () => Promise.reject(new Error('ENOTFOUND'));
    expect(await checkWebhookUrl('https://nowhere.example/', { allowPrivate: false, resolve: failing })).toEqual({
      ok: false,
      problem: expect.stringContaining('does not resolve'),
    });
    expect(await checkWebhookUrl('https://nowhere.example/', { allowPrivate: false, resolve: resolverOf([]) })).toEqual({
      ok: false,
      problem: expect.stringContaining('does not resolve'),
    });
  });

  it('wants https, no credentials and no fragment', async () => {
    const resolve = resolverOf(PUBLIC);
    const problem = async (url: string, allowPrivate = false) => {
      const v = await checkWebhookUrl(url, { allowPrivate, resolve });
      return v.ok ? 'accepted' : v.problem;
    };
    expect(await problem('http://relay.example/')).toBe('must be an https:// URL');
    expect(await problem('ftp://relay.example/', true)).toBe('must be an https:// or http:// URL');
    expect(await problem('https://user:pw@relay.example/')).toContain('credentials');
    expect(await problem('https://user@relay.example/', true)).toContain('credentials');
    expect(await problem('https://relay.example/#x')).toContain('fragment');
    expect(await problem('not a url')).toBe('must be an absolute URL');
    expect(await problem(`https://relay.example/${'a'.repeat(2100)}`)).toContain('2048');
  });

  it('with WEBHOOK_ALLOW_PRIVATE_URLS, allows http and private hosts without DNS', async () => {
    const resolve = resolverOf(['10.0.0.1']);
    expect(await checkWebhookUrl('http://127.0.0.1:8080/hook', { allowPrivate: true, resolve })).toMatchObject({ ok: true });
    expect(await checkWebhookUrl('https://localhost/', { allowPrivate: true, resolve })).toMatchObject({ ok: true });
    expect(resolve.asked).toEqual([]);
  });
});
