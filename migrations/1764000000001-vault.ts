import { MigrationInterface, QueryRunner } from 'typeorm';

export class Vault1764000000001 implements MigrationInterface {
  name = 'Vault1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants ADD COLUMN bot_secret bytea, ADD COLUMN vault_key_id varchar(32)`);
    await q.query(`CREATE INDEX tenants_vault_key_id ON tenants (vault_key_id) WHERE vault_key_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP COLUMN bot_secret, DROP COLUMN vault_key_id`);
  }
}
