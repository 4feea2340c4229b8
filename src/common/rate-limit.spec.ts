import { parseRate, SlidingWindows, TokenBuckets } from './rate-limit';

describe('parseRate', () => {
  it.each([
    ['100/s', { count: 100, windowMs: 1000 }],
    ['10/1m', { count: 10, windowMs: 60_000 }],
    ['500/1h', { count: 500, windowMs: 3_600_000 }],
    ['5/30s', { count: 5, windowMs: 30_000 }],
  ])('reads %s', (text, rate) => expect(parseRate(text)).toEqual(rate));

  it('reads off as no limit', () => expect(parseRate('off')).toBeNull());

  it.each(['', '100', '0/s', '-1/s', '10/', '10/1y', 'ten/s', '1.5/s', '10/0s'])('refuses %j', (text) => expect(parseRate(text)).toBeUndefined());
});

describe('TokenBuckets', () => {
  it('allows a burst, then refills at the rate, and says how long to wait', () => {
    let now = 0;
    const buckets = new TokenBuckets({ count: 100, windowMs: 1000 }, 200, () => now);
    for (let i = 0; i < 200; i++) expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBe(10); // one token every 10 ms
    now += 10;
    expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBeGreaterThan(0);
    now += 1000;
    let taken = 0;
    while (buckets.take('k') === 0) taken++;
    expect(taken).toBe(100);
  });

  it('keeps keys apart, and a refused take costs nothing', () => {
    let now = 0;
    const buckets = new TokenBuckets({ count: 1, windowMs: 1000 }, 2, () => now);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0]);
    expect(buckets.take('b')).toBe(0);
    for (let i = 0; i < 5; i++) expect(buckets.take('a')).toBe(1000);
    now += 1000;
    expect(buckets.take('a')).toBe(0);
  });
});

describe('SlidingWindows', () => {
  it('allows at most N in any window', () => {
    let now = 0;
    const windows = new SlidingWindows({ count: 10, windowMs: 60_000 }, () => now);
    const allowed: number[] = [];
    // 14 events spread over one minute: a refilling bucket would let most through.
    for (let i = 0; i < 14; i++) {
      if (windows.take('c') === 0) allowed.push(now);
      now += 4_000;
    }
    expect(allowed).toHaveLength(10);
    expect(windows.take('c')).toBe(60_000 - now);
    now = 60_000;
    expect(windows.take('c')).toBe(0);
  });
});
