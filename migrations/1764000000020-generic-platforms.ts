import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['tenants', 'connections', 'connect_links', 'incidents', 'prompts'];

/**
 * SPEC §13: PROVIDERS_FILE adds platforms by name (`^[a-z][a-z0-9-]{1,30}$`, up to 31
 * characters), so a platform column holds any such name: the tenants' CHECK on the four names
 * goes (the service checks a tenant's platform against the configured ones), and every platform
 * column grows to 32. Widening a varchar is a catalog change in PostgreSQL, not a table rewrite.
 */
export class GenericPlatforms1764000000020 implements MigrationInterface {
  name = 'GenericPlatforms1764000000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_platform_check`);
    for (const table of TABLES) await q.query(`ALTER TABLE ${table} ALTER COLUMN platform TYPE varchar(32)`);
    await q.query(`ALTER TABLE tenants ADD CONSTRAINT tenants_platform_name CHECK (platform ~ '^[a-z][a-z0-9-]{1,30}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_platform_name`);
    for (const table of TABLES) await q.query(`ALTER TABLE ${table} ALTER COLUMN platform TYPE varchar(16)`);
    await q.query(`ALTER TABLE tenants ADD CONSTRAINT tenants_platform_check CHECK (platform IN ('microsoft', 'slack', 'webex', 'zoom'))`);
  }
}
