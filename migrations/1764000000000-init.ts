import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1764000000000 implements MigrationInterface {
  name = 'Init1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        platform varchar(16) NOT NULL CHECK (platform IN ('microsoft', 'slack', 'webex', 'zoom')),
        external_id varchar(255) NOT NULL,
        name varchar(200) NOT NULL,
        admins jsonb NOT NULL DEFAULT '[]',
        bot jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_natural_key UNIQUE (platform, external_id)
      )`);
    await q.query(`
      CREATE TABLE api_clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('admin', 'relay')),
        tenant_ids uuid[],
        key_hash bytea NOT NULL,
        bootstrap boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_clients_key_hash ON api_clients (key_hash)`);
    await q.query(`CREATE UNIQUE INDEX api_clients_one_bootstrap ON api_clients (bootstrap) WHERE bootstrap`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_clients`);
    await q.query(`DROP TABLE tenants`);
  }
}
