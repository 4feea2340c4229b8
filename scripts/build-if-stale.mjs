#!/usr/bin/env node
// Compiles src/, migrations/, sandbox/ and bench/ with SWC into dist/ when any source is
// newer than the last build, so `npm start` on a fresh clone builds once and later starts
// skip it. SWC only strips types: `npm run check` is the type check.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'migrations', 'sandbox', 'bench'].filter((d) => existsSync(d));
const stamp = join('dist', '.build-stamp');

function newest(dir) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

const sourcesAt = Math.max(statSync('.swcrc').mtimeMs, statSync('package-lock.json').mtimeMs, ...roots.map(newest));
const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (builtAt < sourcesAt) {
  execFileSync(process.execPath, ['node_modules/@swc/cli/bin/swc.js', ...roots, '-d', 'dist', '--config-file', '.swcrc', '--ignore', '**/*.spec.ts', '--quiet'], {
    stdio: 'inherit',
  });
  writeFileSync(stamp, new Date().toISOString());
}
