import 'reflect-metadata';
import { ApiClientsService } from './api-clients/api-clients.service';
import { createApp } from './app';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/load-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { runMigrations } from './database/migrate';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createRootLogger(config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  if (config.embeddedDatabase) {
    log.info({ dataDir: config.dataDir }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: (m) => log.debug({ context: 'postgres' }, m) });
  }
  const databaseUrl = config.databaseUrl ?? embedded?.url ?? '';
  const applied = await runMigrations(databaseUrl);
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');

  const app = await createApp(config, databaseUrl, log);
  const generatedKey = await app.get(ApiClientsService).bootstrap();
  if (generatedKey) {
    // Printed once, to the terminal only (not through the logger): only its hash is stored.
    process.stdout.write(`\nGenerated the bootstrap admin API key (shown once, store it now):\n\n  ${generatedKey}\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await app.close().catch((e: unknown) => log.error({ err: e }, 'error while closing the app'));
    await embedded?.stop().catch((e: unknown) => log.error({ err: e }, 'error while stopping PostgreSQL'));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  log.info({ port: config.port, publicBaseUrl: config.publicBaseUrl }, 'Auto Heal token service is ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
