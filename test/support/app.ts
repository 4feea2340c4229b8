import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ApiClientsService } from '../../src/api-clients/api-clients.service';
import { createApp } from '../../src/app';
import { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { runMigrations } from '../../src/database/migrate';
import { createTestDatabase } from './database';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef0123456789';

/** A fresh random keyring (`k1:<32 random bytes>`), or one with the given ids. */
export function testKeyring(...ids: string[]): string {
  return (ids.length ? ids : ['k1']).map((id) => `${id}:${randomBytes(32).toString('base64')}`).join(',');
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  databaseUrl: string;
  /** fetch against the app with the admin key (or `key`), JSON in and out. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as the API sent it; tests assert on its shape.
  call(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/**
 * The real application on a fresh database of the run's PostgreSQL, listening on a free
 * loopback port. `env` is the environment as an operator would set it.
 */
export async function startTestApp(env: Record<string, string> = {}, shared?: { databaseUrl: string }): Promise<TestApp> {
  const db = shared ? undefined : await createTestDatabase();
  const databaseUrl = shared?.databaseUrl ?? db?.url ?? '';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-app-'));
  const config = loadConfig({
    ADMIN_API_KEY: ADMIN_KEY,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    VAULT_KEYS: testKeyring(),
    ...env,
  });
  await runMigrations(databaseUrl);
  const app = await createApp(config, databaseUrl, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  await app.get(ApiClientsService).bootstrap();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  config.publicBaseUrl = env.PUBLIC_BASE_URL ?? url;
  return {
    app,
    config,
    url,
    databaseUrl,
    async call(method, p, body, key = ADMIN_KEY) {
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async close() {
      await app.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
