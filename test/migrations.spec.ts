import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runMigrations } from '../src/database/migrate';
import { createTestDatabase } from './support/database';

describe('migrations', () => {
  it('run up on an empty database, are idempotent, and revert cleanly', async () => {
    const db = await createTestDatabase();
    try {
      const first = await runMigrations(db.url);
      expect(first.length).toBeGreaterThan(0);
      expect(await runMigrations(db.url)).toEqual([]);

      const c = new Client({ connectionString: db.url });
      await c.connect();
      const tables = await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
      await c.end();
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['tenants', 'api_clients', 'migrations']));

      const ds = new DataSource(dataSourceOptions(db.url, 1));
      await ds.initialize();
      for (let i = 0; i < first.length; i++) await ds.undoLastMigration();
      const left = await ds.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`);
      await ds.destroy();
      expect(left[0].n).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('two replicas migrating at once apply each migration once', async () => {
    const db = await createTestDatabase();
    try {
      const [a, b] = await Promise.all([runMigrations(db.url), runMigrations(db.url)]);
      expect([...a, ...b].sort()).toEqual([...new Set([...a, ...b])].sort());
      expect(a.length + b.length).toBeGreaterThan(0);
    } finally {
      await db.drop();
    }
  });
});
