import { isLoopbackHost, parseOrigin, parseReturnUrl } from './origins';

describe('return origins (SPEC §5)', () => {
  it.each([
    ['https://App.Example.com', 'https://app.example.com'],
    ['https://app.example.com:443', 'https://app.example.com'],
    ['https://app.example.com:8443/', 'https://app.example.com:8443'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['http://127.1', 'http://127.0.0.1'],
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://[::1]:9000', 'http://[::1]:9000'],
  ])('accepts %s as the origin %s', (value, origin) => {
    expect(parseOrigin(value)).toEqual({ origin });
  });

  it.each([
    'http://app.example.com',
    'http://localhost.evil.example',
    'http://127.0.0.1.nip.io',
    'http://[::ffff:127.0.0.1]',
    'http://10.0.0.1',
    'https://app.example.com/path',
    'https://app.example.com?x=1',
    'https://app.example.com#top',
    'https://app.example.com/?',
    'https://user:pw@app.example.com',
    'ftp://app.example.com',
    'javascript:alert(1)',
    'data:text/html,hi',
    'app.example.com',
    'null',
    '',
  ])('refuses %j', (value) => {
    expect(parseOrigin(value)).toHaveProperty('problem');
  });

  it('tells loopback hosts by their parsed form only', () => {
    expect(isLoopbackHost('127.255.0.9')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.example')).toBe(false);
  });

  describe('return URLs', () => {
    const origins = ['https://relay.example.com', 'http://127.0.0.1:5000'];

    it('accepts a URL under an allowed origin, as WHATWG URL serialises it', () => {
      expect(parseReturnUrl('https://RELAY.example.com:443/done?x=1', origins)).toEqual({ url: 'https://relay.example.com/done?x=1' });
      expect(parseReturnUrl('http://127.0.0.1:5000/back', origins)).toEqual({ url: 'http://127.0.0.1:5000/back' });
    });

    it.each([
      ['another origin', 'https://evil.example.com/'],
      ['a look-alike host', 'https://relay.example.com.evil.example/'],
      ['userinfo that hides the host', 'https://relay.example.com@evil.example/'],
      ['a backslash browsers read as a slash', 'https://evil.example\\@relay.example.com/'],
      ['another port', 'https://relay.example.com:8443/'],
      ['plain http off loopback', 'http://relay.example.com/'],
      ['a loopback port not allowed', 'http://127.0.0.1:5001/'],
      ['credentials on an allowed origin', 'https://u:p@relay.example.com/'],
      ['a script URL', 'javascript:alert(1)//https://relay.example.com'],
      ['no URL at all', 'relay.example.com/done'],
    ])('refuses %s', (_, value) => {
      expect(parseReturnUrl(value, origins)).toHaveProperty('problem');
    });

    it('refuses every URL when the key has no origins', () => {
      expect(parseReturnUrl('https://relay.example.com/', [])).toHaveProperty('problem');
    });
  });
});
