/**
 * The sandbox in a process of its own, as a real platform runs elsewhere: its CPU, its event
 * loop and every grant it issued are then not charged to the service a benchmark measures.
 * Answers its environment on IPC once listening; the parent drives it through its HTTP control
 * routes (`/_sandbox/...`), and it stops when the parent disconnects.
 */
import { ChildProcess, fork } from 'node:child_process';
import { startSandbox } from '../sandbox';

export interface SandboxProcess {
  env: Record<string, string>;
  child: ChildProcess;
  /** JSON to and from `<platform origin>/_sandbox/<platform>/<action>`. */
  control<T>(platform: 'microsoft', method: 'GET' | 'POST' | 'DELETE', action: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function forkSandbox(): Promise<SandboxProcess> {
  const child = fork(__filename, ['--child'], { stdio: 'inherit' });
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', (m: { env: Record<string, string> }) => resolve(m.env));
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)));
  });
  const origin = env.MICROSOFT_AUTHORITY_HOST;
  return {
    env,
    child,
    async control<T>(platform: 'microsoft', method: 'GET' | 'POST' | 'DELETE', action: string, body?: unknown): Promise<T> {
      const res = await fetch(`${origin}/_sandbox/${platform}/${action}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`sandbox control ${method} ${action}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}

if (process.argv.includes('--child')) {
  void startSandbox().then((sb) => {
    process.on('disconnect', () => void sb.close().then(() => process.exit(0)));
    process.send?.({ env: sb.env });
  });
}
