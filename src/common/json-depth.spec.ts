import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth';

const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('nestedDeeperThan', () => {
  it('accepts 32 levels and refuses 33', () => {
    expect(nestedDeeperThan(nest(MAX_JSON_DEPTH))).toBe(false);
    expect(nestedDeeperThan(nest(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestedDeeperThan('{"a":'.repeat(33) + '1' + '}'.repeat(33))).toBe(true);
  });

  it('counts depth, not brackets: siblings do not add up', () => {
    expect(nestedDeeperThan(`[${Array(1000).fill('{"a":[1]}').join(',')}]`)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestedDeeperThan(JSON.stringify({ s: '['.repeat(100) }))).toBe(false);
    expect(nestedDeeperThan(JSON.stringify({ s: 'say \\"[[[[' + '['.repeat(100) + '"' }))).toBe(false);
    expect(nestedDeeperThan(JSON.stringify(['\\', nest(40)]))).toBe(false);
  });

  it('reads a 100,000-deep body without recursion', () => {
    expect(nestedDeeperThan(nest(100_000))).toBe(true);
  });

  it('agrees with the real depth of parsed JSON for random documents', () => {
    const depthOf = (v: unknown): number => (v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    const seen = new Set<boolean>();
    for (let seed = 1; seed < 300; seed++) {
      let x = seed;
      const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const build = (d: number): unknown => (d === 0 || rand() < 0.2 ? (rand() < 0.5 ? '[]{}"' : 1) : rand() < 0.5 ? [build(d - 1), build(d - 1)] : { k: build(d - 1), '[': '}' });
      const text = JSON.stringify(build(40));
      const deeper = depthOf(JSON.parse(text)) > MAX_JSON_DEPTH;
      expect(nestedDeeperThan(text)).toBe(deeper);
      seen.add(deeper);
    }
    expect(seen.size).toBe(2); // both sides of the limit were tried
  });
});
