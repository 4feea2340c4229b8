import 'reflect-metadata';
import { SingleBar } from 'cli-progress';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/load-config';
import { dataSourceOptions } from '../database/data-source-options';
import { EmbeddedDatabase, findRunningEmbedded, startEmbeddedPostgres } from '../database/embedded-postgres';
import { runMigrations } from '../database/migrate';
import { loadKeyring } from './load-keyring';
import { Vault } from './vault';
import { VaultCensus } from './vault-census';
import { VaultRotation } from './vault-rotation';

/**
 * `npm run vault:rotate [-- --dry-run] [-- --batch-size N]`: re-encrypts every stored
 * secret under the first key of VAULT_KEYS. Safe while the service runs; resumable.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dryRun = args.includes('--dry-run');
  const sizeArg = args.indexOf('--batch-size');
  const batchSize = sizeArg >= 0 ? Number(args[sizeArg + 1]) : 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new ConfigError('--batch-size must be an integer from 1 to 10000');

  const config = loadConfig(process.env);
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl ?? (await findRunningEmbedded(config.dataDir));
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir });
    url = embedded.url;
  }
  await runMigrations(url);
  const db = new DataSource(dataSourceOptions(url, 4));
  await db.initialize();
  try {
    const vault = await Vault.create(loadKeyring(config));
    const rotation = new VaultRotation(db, vault);
    const inUse = await new VaultCensus(db, vault).keyIdsInUse();
    const remaining = await rotation.remaining();
    process.stdout.write(`Active key: ${vault.activeKeyId}. Key ids in use: ${inUse.join(', ') || 'none'}. Rows to re-encrypt: ${remaining}.\n`);
    const unknown = inUse.filter((id) => !vault.hasKey(id));
    if (unknown.length > 0) throw new Error(`rows use key ids not in VAULT_KEYS: ${unknown.join(', ')}; add them to the ring (after the active key) first`);
    if (dryRun || remaining === 0) return;

    const bar = new SingleBar({ format: 'Re-encrypting [{bar}] {value}/{total} rows | {percentage}% | {eta_formatted} left', stream: process.stderr });
    bar.start(remaining, 0);
    const moved = await rotation.rotate(batchSize, (p) => bar.update(Math.min(p.moved, p.total)));
    bar.stop();
    const left = await rotation.remaining();
    process.stdout.write(`Re-encrypted ${moved} rows under key ${vault.activeKeyId}; ${left} left.\n`);
    if (left > 0) process.exitCode = 2;
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`vault:rotate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
