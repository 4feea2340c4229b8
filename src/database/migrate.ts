import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

const MIGRATION_LOCK = 7246001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock on one session, so
 * replicas starting together apply each migration exactly once.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(url, 2));
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}
