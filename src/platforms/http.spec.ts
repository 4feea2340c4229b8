import { isRecord } from '../common/is-record';
import { describeError, trimDescription } from './http';

describe('trimDescription, the one clip of a failure description', () => {
  it('trims, keeps at most 300 characters and gives none for an empty text', () => {
    expect(trimDescription('  AADSTS50173: grant revoked \n')).toBe('AADSTS50173: grant revoked');
    expect(trimDescription('x'.repeat(301))).toBe('x'.repeat(300));
    expect(trimDescription(' \t\n')).toBeUndefined();
    expect(trimDescription(undefined)).toBeUndefined();
  });
});

describe('describeError, for failures below HTTP (fetch, node:http, the Slack SDK)', () => {
  it("prefers the cause's socket code, then the cause's message, then the error's own", () => {
    expect(describeError(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))).toBe('UND_ERR_SOCKET');
    expect(describeError(new TypeError('fetch failed', { cause: new Error('getaddrinfo failed') }))).toBe('getaddrinfo failed');
    expect(describeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('describes what is not an Error by its string, clipped like any description', () => {
    expect(describeError('socket hang up')).toBe('socket hang up');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError(new Error('y'.repeat(400)))).toHaveLength(300);
  });
});

describe('isRecord', () => {
  it('takes JSON objects only: not arrays, null or primitives', () => {
    expect(isRecord({ error: 'invalid_grant' })).toBe(true);
    expect(isRecord([{ error: 'invalid_grant' }])).toBe(false);
    expect(isRecord(null)).toBe(false);
    expect(isRecord('{}')).toBe(false);
  });
});
