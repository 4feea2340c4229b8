import { backoffMs, nextRefreshAt, retryAfterSeconds } from './schedule';

const at = (iso: string) => new Date(iso);
const MIN = 60_000;

describe('nextRefreshAt', () => {
  const issued = at('2026-01-01T00:00:00Z');

  it('refreshes 20 % of the lifetime ahead, with jitter of at most 10 % of the lead', () => {
    const expires = new Date(issued.getTime() + 100 * MIN);
    expect(nextRefreshAt(issued, expires, () => 0.5).getTime()).toBe(expires.getTime() - 20 * MIN);
    expect(nextRefreshAt(issued, expires, () => 0).getTime()).toBe(expires.getTime() - 22 * MIN);
    expect(nextRefreshAt(issued, expires, () => 1).getTime()).toBe(expires.getTime() - 18 * MIN);
  });

  it('keeps a lead of at least 5 minutes', () => {
    const expires = new Date(issued.getTime() + 10 * MIN);
    expect(nextRefreshAt(issued, expires, () => 0.5).getTime()).toBe(expires.getTime() - 5 * MIN);
  });

  it('is due at once when the lead is at least the lifetime', () => {
    expect(nextRefreshAt(issued, new Date(issued.getTime() + 5 * MIN), () => 0.9)).toEqual(issued);
    expect(nextRefreshAt(issued, new Date(issued.getTime() - MIN), () => 0.9)).toEqual(issued);
  });
});

describe('backoffMs', () => {
  it('starts at 5 s, doubles, caps at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffMs(n, 0, () => 0))).toEqual([5000, 10000, 20000, 40000, 60000, 60000, 60000]);
  });

  it('jitters down by at most 20 %', () => {
    expect(backoffMs(2, 0, () => 1)).toBe(8000);
  });

  it('honours a longer Retry-After, within the 60 s cap', () => {
    expect(backoffMs(1, 30_000, () => 0)).toBe(30_000);
    expect(backoffMs(1, 600_000, () => 0)).toBe(60_000);
  });
});

describe('retryAfterSeconds', () => {
  it('is whole seconds until the next attempt, at least 1', () => {
    expect(retryAfterSeconds(new Date(10_500), 0)).toBe(11);
    expect(retryAfterSeconds(new Date(0), 5_000)).toBe(1);
    expect(retryAfterSeconds(null, 5_000)).toBe(1);
  });
});
