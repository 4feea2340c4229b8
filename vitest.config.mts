import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * One embedded PostgreSQL per run (globalSetup); each test file creates its own database.
 * SWC compiles the TypeScript so decorator metadata (Nest DI, class-validator) is emitted.
 */
export default defineConfig({
  plugins: [
    swc.vite({
      swcrc: false,
      module: { type: 'es6' },
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        keepClassNames: true,
      },
    }),
  ],
  test: {
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'sandbox/**/*.spec.ts', 'client/src/**/*.spec.ts'],
    globals: true,
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    // Concurrent heal tests spend their time waiting for probe and reminder ticks, not CPU.
    maxConcurrency: 24,
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
