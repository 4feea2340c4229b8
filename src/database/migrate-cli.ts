import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/load-config';
import { dataSourceOptions } from './data-source-options';
import { EmbeddedDatabase, findRunningEmbedded, startEmbeddedPostgres } from './embedded-postgres';
import { runMigrations } from './migrate';

/** `npm run migration:run` / `migration:revert` against DATABASE_URL (or the embedded default). */
async function main(): Promise<void> {
  const command = process.argv[2];
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate-cli run|revert');
  const config = loadConfig(process.env);
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl ?? (await findRunningEmbedded(config.dataDir));
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    url = embedded.url;
  }
  try {
    if (command === 'run') {
      const applied = await runMigrations(url);
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Nothing to apply.\n');
    } else {
      const ds = new DataSource(dataSourceOptions(url, 1));
      await ds.initialize();
      await ds.undoLastMigration({ transaction: 'each' });
      await ds.destroy();
      process.stdout.write('Reverted the last migration.\n');
    }
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
