import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11 webhook endpoints: the subscriptions (delivery comes later). The signing secret is
 * sealed in the vault (`secret`, bound to `webhook_endpoint:<id>` / `signing_secret`); after a
 * rotation the previous one (purpose `previous_signing_secret`) stays live until `previous_secret_until` (24 h). Both ciphertexts
 * use `vault_key_id`. `tenant_ids` NULL means every tenant (only a `*` admin key sets it).
 */
export class WebhookEndpoints1764000000013 implements MigrationInterface {
  name = 'WebhookEndpoints1764000000013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        tenant_ids uuid[] CHECK (tenant_ids IS NULL OR cardinality(tenant_ids) > 0),
        description text,
        disabled boolean NOT NULL DEFAULT false,
        created_by uuid REFERENCES api_clients(id) ON DELETE SET NULL,
        secret bytea NOT NULL,
        previous_secret bytea,
        previous_secret_until timestamptz,
        vault_key_id varchar(32) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL))
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_vault_key_id ON webhook_endpoints (vault_key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
