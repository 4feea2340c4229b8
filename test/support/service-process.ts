import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ADMIN_KEY } from './app';
import { waitFor } from './heal';

export interface ServiceProcess {
  child: ChildProcess;
  base: string;
  /** JSON through the process's HTTP API, with the admin key unless told otherwise. */
  api: (method: string, p: string, body?: unknown, key?: string) => Promise<{ status: number; body: Record<string, string> }>;
}

/**
 * The built service as its own process (`npm start`), for tests that SIGKILL it: a crash
 * must be a real one. Builds `dist/` if stale; `stopAll()` kills what is left and removes
 * the data folders.
 */
export class ServiceProcesses {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];

  constructor(private readonly env: Record<string, string>) {
    execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
  }

  async start(databaseUrl: string): Promise<ServiceProcess> {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-process-'));
    this.dirs.push(dataDir);
    let output = '';
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    this.children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      `the service process to be ready: ${output}`,
      () =>
        fetch(`${base}/health/ready`).then(
          (r) => r.status === 200,
          () => false,
        ),
      30_000,
    );
    return {
      child,
      base,
      async api(method, p, body, key = ADMIN_KEY) {
        const res = await fetch(base + p, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      },
    };
  }

  stopAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
