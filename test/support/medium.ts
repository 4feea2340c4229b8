import { Test, TestingModule } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { Sandbox, startSandbox } from '../../sandbox';
import type { Caller } from '../../src/common/auth';
import { PinoNestLogger } from '../../src/common/logger';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/load-config';
import { ConnectionState } from '../../src/connections/connection-state';
import type { ConnectionRow } from '../../src/connections/connection.types';
import { ConnectionsModule } from '../../src/connections/connections.module';
import { ConnectionsRepository } from '../../src/connections/connections.repository';
import { ConnectionsService } from '../../src/connections/connections.service';
import { RefreshCommits } from '../../src/connections/refresh/refresh-commits';
import { RefreshSweep } from '../../src/connections/refresh/refresh-sweep';
import { Refresher } from '../../src/connections/refresh/refresher';
import { TokenSealer } from '../../src/connections/token-sealer';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrate';
import { ObservabilityModule } from '../../src/observability/observability.module';
import { PlatformsModule } from '../../src/platforms/platforms.module';
import { TenantsModule } from '../../src/tenants/tenants.module';
import { TenantsService } from '../../src/tenants/tenants.service';
import { VaultModule } from '../../src/vault/vault.module';
import { testKeyring } from './app';
import { createTestDatabase } from './database';
import { fullScopes } from './factories';
import { platformIds } from './world';

/**
 * Medium tests: the real connection classes on a fresh migrated PostgreSQL, no HTTP server of
 * ours, the platform sandbox as the platforms. Each "replica" is a Nest testing module with the
 * production modules (not AppModule: no API, no heal), so constructor changes are absorbed by DI
 * and every fixture of the medium specs is built here, in one place.
 */

const ADMIN: Caller = { clientId: 'medium-test', role: 'admin', tenantIds: null };

/** Upstream calls seen at a platform, counted by a pass-through proxy in front of the sandbox. */
export interface UpstreamGauge {
  readonly url: string;
  /** Requests being answered right now. */
  readonly now: number;
  /** The most requests answered at once since the last reset. */
  readonly most: number;
  /** Requests started since the last reset. */
  readonly total: number;
  reset(): void;
  close(): Promise<void>;
}

/** A real HTTP proxy (not a stand-in): every request goes on to `target` unchanged. */
async function startUpstreamGauge(target: string): Promise<UpstreamGauge> {
  const to = new URL(target);
  let now = 0;
  let most = 0;
  let total = 0;
  const server: Server = createServer((req, res) => {
    now++;
    total++;
    most = Math.max(most, now);
    let open = true;
    const done = () => {
      if (open) now--;
      open = false;
    };
    res.on('close', done);
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get now() {
      return now;
    },
    get most() {
      return most;
    },
    get total() {
      return total;
    },
    reset() {
      most = now;
      total = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Statements one DataSource sent, observed on their way to PostgreSQL (and passed on as they are). */
export interface StatementLog {
  /** Statements matching `pattern` since the last reset. */
  count(pattern: RegExp): number;
  reset(): void;
}

function logStatements(ds: DataSource): StatementLog {
  let sent: string[] = [];
  const query = ds.query.bind(ds);
  ds.query = ((sql: string, params?: unknown[]) => {
    sent.push(sql);
    return query(sql, params);
  }) as DataSource['query'];
  return {
    count: (pattern) => sent.filter((s) => pattern.test(s)).length,
    reset: () => {
      sent = [];
    },
  };
}

/** One service instance ("replica") on the shared database, with its own pool and lease owner. */
export interface Replica {
  module: TestingModule;
  refresher: Refresher;
  sweep: RefreshSweep;
  repo: ConnectionsRepository;
  sealer: TokenSealer;
  /** Slack's token endpoint as this replica reaches it. */
  slack: UpstreamGauge;
  statements: StatementLog;
  /** A group committer of this replica, committing as `owner`. */
  newCommits(owner: string): RefreshCommits;
  close(): Promise<void>;
}

export interface SeededConnection {
  id: string;
  userExternalId: string;
  /** The plaintext access token the row was imported with. */
  accessToken: string;
}

export interface MediumWorld {
  sb: Sandbox;
  databaseUrl: string;
  /** A plain client for fixture writes and for reading rows back. */
  sql: Client;
  /** The Slack workspace every seeded connection belongs to. */
  tenantExternalId: string;
  replica(env?: Record<string, string>): Promise<Replica>;
  /**
   * A Slack connection imported through ConnectionsService, its access token expiring in
   * `expiresInSeconds`; given a user already seeded, a fresh grant replaces its tokens (a re-sync).
   */
  seed(via: Replica, expiresInSeconds: number, userExternalId?: string): Promise<SeededConnection>;
  /** Makes the rows due for the sweep now. */
  makeDue(ids: readonly string[]): Promise<void>;
  row(via: Replica, id: string): Promise<ConnectionRow>;
  close(): Promise<void>;
}

export async function startMediumWorld(): Promise<MediumWorld> {
  const db = await createTestDatabase();
  await runMigrations(db.url);
  const sb = await startSandbox();
  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  const vaultKeys = testKeyring('k1');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autoheal-medium-'));
  const replicas: Replica[] = [];
  const tenantExternalId = platformIds('slack').tenant;
  let tenantMade = false;

  async function replica(env: Record<string, string> = {}): Promise<Replica> {
    const slack = await startUpstreamGauge(sb.urls.slack);
    const config = loadConfig({
      ...sb.env,
      SLACK_API_URL: `${slack.url}/api/`,
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      VAULT_KEYS: vaultKeys,
      // Sweeps run only when a test asks for one.
      REFRESH_SWEEP_INTERVAL: '1h',
      ...env,
    });
    const module = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        // A small pool: a replica here runs one sweep or a few dozen calls at a time.
        TypeOrmModule.forRoot(dataSourceOptions(db.url, 8)),
        ObservabilityModule,
        VaultModule,
        ScheduleModule.forRoot(),
        PlatformsModule,
        TenantsModule,
        ConnectionsModule,
      ],
    })
      .setLogger(new PinoNestLogger(pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })))
      .compile();
    await module.init();
    const repo = module.get(ConnectionsRepository);
    const r: Replica = {
      module,
      refresher: module.get(Refresher),
      sweep: module.get(RefreshSweep),
      repo,
      sealer: module.get(TokenSealer),
      slack,
      statements: logStatements(module.get(DataSource)),
      newCommits: (owner) => new RefreshCommits(module.get(ConnectionState), owner),
      async close() {
        await module.close();
        await slack.close();
      },
    };
    replicas.push(r);
    return r;
  }

  async function seed(via: Replica, expiresInSeconds: number, user?: string): Promise<SeededConnection> {
    if (!tenantMade) {
      await via.module
        .get(TenantsService)
        .create(ADMIN, { platform: 'slack', externalId: tenantExternalId, name: 'Medium', admins: [{ userExternalId: 'UADMIN0001', email: 'admin@medium.example' }] });
      tenantMade = true;
    }
    const userExternalId = user ?? platformIds('slack').user;
    const grant = sb.control.mintGrant('slack', { tenantExternalId, userExternalId, scopes: fullScopes('slack') });
    const { view } = await via.module.get(ConnectionsService).import(ADMIN, {
      platform: 'slack',
      tenantExternalId,
      userExternalId,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
      scopes: fullScopes('slack'),
    });
    return { id: view.id, userExternalId, accessToken: grant.accessToken };
  }

  return {
    sb,
    databaseUrl: db.url,
    sql,
    tenantExternalId,
    replica,
    seed,
    async makeDue(ids) {
      await sql.query(`UPDATE connections SET next_refresh_at = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);
    },
    async row(via, id) {
      const found = await via.repo.findById(id, 'all');
      if (!found) throw new Error(`no connection ${id}`);
      return found;
    },
    async close() {
      for (const r of replicas.splice(0)) await r.close();
      await sql.end();
      await sb.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
