import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EVENT_TYPES as CLIENT_TYPES } from '../client/src/index.js';
import { EVENT_TYPES } from '../src/events/event-types';

const root = path.join(__dirname, '..', 'client');

/** The client as a relay installs it: built once, then loaded by Node from both module systems. */
describe('client package: ESM + CommonJS + types, no runtime dependency', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'pipe' });
  }, 120_000);

  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

  it('require() and import() through the exports map give the same API', () => {
    const probe = `const c = new m.AutoHealClient({ baseUrl: 'http://x', apiKey: 'k' }); console.log([typeof m.AutoHealClient, typeof m.verifyWebhook, typeof c.tokens.get, typeof c.withToken, m.EVENT_TYPES.length].join(' '))`;
    const cjs = run(['-e', `const m = require(${JSON.stringify(path.join(root, pkg.exports['.'].require.default))}); ${probe}`]);
    const esm = run(['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(root, pkg.exports['.'].import.default))}); ${probe}`]);
    expect(cjs).toBe('function function function function 12');
    expect(esm).toBe(cjs);
    expect(run(['-e', `console.log(require(${JSON.stringify(path.join(root, 'dist/cjs/package.json'))}).type)`])).toBe('commonjs');
  });

  it('knows the event types the service emits (its own copy: the package depends on nothing)', () => {
    expect([...CLIENT_TYPES]).toEqual([...EVENT_TYPES]);
  });

  it('ships declarations for both, and depends on nothing at run time', () => {
    for (const side of ['import', 'require'] as const) expect(existsSync(path.join(root, pkg.exports['.'][side].types))).toBe(true);
    expect(readFileSync(path.join(root, 'dist/esm/index.d.ts'), 'utf8')).toContain('ReauthRequiredError');
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
  });
});
