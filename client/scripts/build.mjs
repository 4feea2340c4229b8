#!/usr/bin/env node
// Builds the dual package: tsc twice (ESM into dist/esm, CommonJS into dist/cjs), side by side.
// dist/cjs gets its own package.json so Node reads those .js files as CommonJS under this
// package's "type": "module". TypeScript comes from the repository root (no install here).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile(project) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc -p ${project} exited with ${code}`))));
  });
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
await Promise.all([compile('tsconfig.esm.json'), compile('tsconfig.cjs.json')]);
mkdirSync(join(root, 'dist/cjs'), { recursive: true });
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
