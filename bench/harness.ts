/** What the lifecycle benchmarks share: the real app on an embedded PostgreSQL in a temporary folder. */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ApiClientsService } from '../src/api-clients/api-clients.service';
import { createApp } from '../src/app';
import { AppConfig } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';

export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef0123456789';

export interface BenchApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  databaseUrl: string;
  /** JSON through the real HTTP API, with the admin key unless told otherwise. */
  call: (method: string, p: string, body?: unknown, key?: string) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** A second instance of the service on the same database, with `env` on top (closed by `close`). */
  twin(env: Record<string, string>): Promise<{ app: NestFastifyApplication; url: string }>;
  /** Stops the app (and its twins) and PostgreSQL and removes the temporary folder. */
  close(): Promise<void>;
}

/**
 * The service as `npm start` builds it, on 127.0.0.1, with fsync off (the benchmarks measure
 * the service, not this machine's disk) and the timers that would interfere pushed out of
 * the run: each benchmark drives the sweep itself. `RATE_LIMIT` is off unless a benchmark
 * sets it: set-up imports thousands of connections with one key.
 */
export async function startBenchApp(name: string, env: Record<string, string>): Promise<BenchApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `autoheal-${name}-`));
  // BENCH_PG_STATS=1 (a diagnostic): pg_stat_statements loaded, for a benchmark to print where PostgreSQL's time went.
  const stats: Record<string, string> = process.env.BENCH_PG_STATS ? { shared_preload_libraries: 'pg_stat_statements' } : {};
  const pg = await startEmbeddedPostgres({ dataDir, settings: { max_connections: '200', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...stats } });
  const stop = async () => {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const twins: NestFastifyApplication[] = [];
  const environment = (extra: Record<string, string>) =>
    loadConfig({
      DATABASE_URL: pg.url,
      VAULT_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      ADMIN_API_KEY: ADMIN_KEY,
      REFRESH_SWEEP_INTERVAL: '1h',
      HEAL_PROBE_INTERVAL: '1h',
      LOG_LEVEL: 'silent',
      RATE_LIMIT: 'off',
      ...env,
      ...extra,
    });
  const serve = async (config: AppConfig) => {
    const app = await createApp(config, pg.url, pino({ level: config.logLevel }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    return { app, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  };
  try {
    const config = environment({});
    await runMigrations(pg.url);
    const { app, url } = await serve(config);
    await app.get(ApiClientsService).bootstrap();
    return {
      app,
      config,
      url,
      databaseUrl: pg.url,
      async call(method, p, body, key = ADMIN_KEY) {
        const res = await fetch(url + p, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
      async twin(extra) {
        const twin = await serve(environment(extra));
        twins.push(twin.app);
        return twin;
      },
      async close() {
        for (const twin of twins) await twin.close();
        await app.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resident set size in MB. */
export const rssMb = (): number => Math.round(process.memoryUsage.rss() / 1048576);

/**
 * CPU seconds (user + system) used so far by this process, by `pid` and by every other
 * descendant (the embedded PostgreSQL), from /proc: on a 2-core machine the service, the
 * database and the sandbox share the cores, and this shows who used them.
 */
export function cpuSeconds(other: number): { self: number; other: number; postgres: number } {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited while we looked
    }
  }
  const under = (pid: number, root: number): boolean => pid === root || (pid > 1 && under(stats.get(pid)?.ppid ?? 0, root));
  let postgres = 0;
  for (const [pid, s] of stats) if (pid !== process.pid && !under(pid, other) && under(pid, process.pid)) postgres += s.ticks;
  const ticks = (pid: number) => stats.get(pid)?.ticks ?? 0;
  return { self: ticks(process.pid) / 100, other: ticks(other) / 100, postgres: postgres / 100 };
}
