import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** `npm start` as an operator runs it: the built service on the embedded PostgreSQL. */
describe('the service process on the embedded default', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-start-'));
  let port = 0;
  let proc: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
    port = await freePort();
  });
  afterAll(() => {
    proc?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  function start(env: Record<string, string> = {}): { proc: ChildProcess; output: () => string } {
    let out = '';
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    proc = child;
    return { proc: child, output: () => out };
  }

  async function waitReady(ms = 30_000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('not ready in time');
  }

  const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

  it('starts, prints a bootstrap key once, keeps data across a clean stop and a SIGKILL', async () => {
    const first = start();
    await waitReady();
    const key = /(ahk_[A-Za-z0-9_-]{43})/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    const created = await fetch(`http://127.0.0.1:${port}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'zoom', externalId: 'acct-9', name: 'Kept', admins: [] }),
    });
    expect(created.status).toBe(201);
    const tenantId = ((await created.json()) as { id: string }).id;
    first.proc.kill('SIGTERM');
    expect(await exited(first.proc)).toBe(0);

    const second = start();
    await waitReady();
    expect(second.output()).not.toMatch(/ahk_/);
    const read = await fetch(`http://127.0.0.1:${port}/v1/tenants/${tenantId}`, { headers: { authorization: `Bearer ${key}` } });
    expect(read.status).toBe(200);
    second.proc.kill('SIGKILL');
    await exited(second.proc);

    // The orphaned PostgreSQL of the killed process must not block the next start.
    const third = start();
    expect(await waitReady(30_000)).toBeLessThan(30_000);
    const again = await fetch(`http://127.0.0.1:${port}/v1/tenants/${tenantId}`, { headers: { authorization: `Bearer ${key}` } });
    expect(again.status).toBe(200);
    third.proc.kill('SIGTERM');
    expect(await exited(third.proc)).toBe(0);
  }, 90_000);

  it('refuses to start on a bad configuration with one line naming the variable', async () => {
    const bad = start({ REFRESH_CONCURRENCY: 'lots' });
    expect(await exited(bad.proc)).toBe(1);
    expect(bad.output().trim()).toMatch(/^Invalid configuration: REFRESH_CONCURRENCY .+$/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
