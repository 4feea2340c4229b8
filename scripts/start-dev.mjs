#!/usr/bin/env node
// `npm run start:dev`: Node's own watch mode (`--watch-path=src ...` in package.json) restarts
// this script when a source changes; it rebuilds what is stale (SWC, ~1 s) and runs the service.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
createRequire(import.meta.url)('../dist/src/main.js');
