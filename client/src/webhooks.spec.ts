import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookVerificationError } from './errors.js';
import { verifyWebhook } from './webhooks.js';

/** verifyWebhook against the `standardwebhooks` package's own signer and verifier: they must agree. */
describe('verifyWebhook', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const other = `whsec_${randomBytes(32).toString('base64')}`;
  const body = JSON.stringify({ id: 'evt_1', type: 'connection.created', createdAt: '2025-01-01T00:00:00.000Z', tenantId: 't', data: { connectionId: 'c', sequence: 1 } });

  /** A delivery as standardwebhooks signs it, `atSeconds` from now. */
  function signed(payload = body, key = secret, atSeconds = 0, id = 'evt_1') {
    const timestamp = new Date(Date.now() + atSeconds * 1000);
    return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': new Webhook(key).sign(id, timestamp, payload) };
  }

  const theirs = (payload: string, headers: Record<string, string>, key = secret) => {
    try {
      new Webhook(key).verify(payload, headers);
      return true;
    } catch {
      return false;
    }
  };
  const ours = (payload: string | Uint8Array, headers: Record<string, string> | Headers, key: string | string[] = secret, toleranceSeconds?: number) => {
    try {
      verifyWebhook(payload, headers, key, { toleranceSeconds });
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookVerificationError);
      return false;
    }
  };

  it('returns the event of a delivery standardwebhooks signed, from a string, a Buffer, Node headers or fetch Headers', () => {
    const headers = signed();
    expect(verifyWebhook(body, headers, secret)).toEqual(JSON.parse(body));
    expect(verifyWebhook(Buffer.from(body), headers, secret).type).toBe('connection.created');
    expect(verifyWebhook(new TextEncoder().encode(body), new Headers(headers), secret).id).toBe('evt_1');
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifyWebhook(body, upper, secret).id).toBe('evt_1');
    // A bare base64 key (no whsec_ prefix) is the same key, as in standardwebhooks.
    expect(verifyWebhook(body, headers, secret.slice('whsec_'.length)).id).toBe('evt_1');
  });

  it('rejects what standardwebhooks rejects: a changed body, id or timestamp, another secret, no headers', () => {
    const headers = signed();
    const cases: [string, string, Record<string, string>, string][] = [
      ['changed body', body.replace('created', 'revoked'), headers, secret],
      ['changed id', body, { ...headers, 'webhook-id': 'evt_2' }, secret],
      ['changed timestamp', body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }, secret],
      ['another secret', body, headers, other],
      ['no signature', body, { 'webhook-id': 'evt_1', 'webhook-timestamp': headers['webhook-timestamp'] }, secret],
      ['a v2 signature', body, { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') }, secret],
      ['a truncated signature', body, { ...headers, 'webhook-signature': headers['webhook-signature'].slice(0, -4) }, secret],
    ];
    for (const [name, payload, h, key] of cases) {
      expect({ name, theirs: theirs(payload, h, key) }).toEqual({ name, theirs: false });
      expect({ name, ours: ours(payload, h, key) }).toEqual({ name, ours: false });
    }
  });

  it('holds timestamps to the tolerance either way (300 s by default, as standardwebhooks)', () => {
    for (const at of [-290, 290]) expect([at, ours(body, signed(body, secret, at))]).toEqual([at, true]);
    for (const at of [-310, 310]) {
      expect([at, theirs(body, signed(body, secret, at))]).toEqual([at, false]);
      expect([at, ours(body, signed(body, secret, at))]).toEqual([at, false]);
    }
    expect(ours(body, signed(body, secret, -30), secret, 10)).toBe(false);
    expect(() => verifyWebhook(body, { ...signed(), 'webhook-timestamp': 'yesterday' }, secret)).toThrow(/Unix seconds/);
  });

  it('verifies during a rotation: several signatures in the header, several secrets in hand', () => {
    const a = signed(body, secret);
    const b = signed(body, other);
    const both = { ...a, 'webhook-signature': `${b['webhook-signature']} ${a['webhook-signature']}` };
    expect(theirs(body, both, secret) && theirs(body, both, other)).toBe(true);
    expect(ours(body, both, secret)).toBe(true);
    expect(ours(body, both, other)).toBe(true);
    expect(ours(body, a, [other, secret])).toBe(true);
    expect(ours(body, a, [other])).toBe(false);
  });

  it('refuses a signed body that is not an event, and an empty secret', () => {
    expect(() => verifyWebhook('not json', signed('not json'), secret)).toThrow(/not JSON/);
    expect(() => verifyWebhook('{"id":"evt_1"}', signed('{"id":"evt_1"}'), secret)).toThrow(/not an event/);
    // Signed as it is, but the body is another event than webhook-id says: a consumer dedupes on the header.
    expect(theirs(body, signed(body, secret, 0, 'evt_9'))).toBe(true);
    expect(() => verifyWebhook(body, signed(body, secret, 0, 'evt_9'), secret)).toThrow(/not the event id/);
    expect(() => verifyWebhook(body, signed(), 'whsec_')).toThrow(TypeError);
    expect(() => verifyWebhook(body, signed(), [])).toThrow(TypeError);
  });

  it('agrees with standardwebhooks on any body, id and secret, and on any one-character change', () => {
    fc.assert(
      fc.property(fc.json(), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.nat(), (json, id, keyBytes, flip) => {
        const key = `whsec_${Buffer.from(keyBytes).toString('base64')}`;
        const payload = JSON.stringify({ id, type: 'ping', data: { value: json } });
        const headers = signed(payload, key, 0, id);
        expect(theirs(payload, headers, key)).toBe(true);
        expect(verifyWebhook(payload, headers, key).id).toBe(id);
        const at = flip % payload.length;
        const changed = payload.slice(0, at) + String.fromCharCode(payload.charCodeAt(at) ^ 1) + payload.slice(at + 1);
        expect(theirs(changed, headers, key)).toBe(false);
        expect(ours(changed, headers, key)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
