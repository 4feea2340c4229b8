import { MigrationInterface, QueryRunner } from 'typeorm';

export class Connections1764000000002 implements MigrationInterface {
  name = 'Connections1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        platform varchar(16) NOT NULL,
        tenant_external_id varchar(255) NOT NULL,
        user_external_id varchar(255) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('active', 'needs_reauth', 'blocked', 'revoked')),
        condition varchar(40),
        scopes text[] NOT NULL DEFAULT '{}',
        access_token bytea,
        refresh_token bytea,
        vault_key_id varchar(32),
        access_token_expires_at timestamptz,
        refresh_token_expires_at timestamptz,
        next_refresh_at timestamptz,
        last_refresh_at timestamptz,
        last_error jsonb,
        failure_count integer NOT NULL DEFAULT 0,
        incident_id uuid,
        version bigint NOT NULL DEFAULT 1,
        lease_owner varchar(64),
        lease_until timestamptz,
        refresh_started_at timestamptz,
        refresh_cutoff boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT connections_natural_key UNIQUE (platform, tenant_external_id, user_external_id)
      )`);
    // The sweep's claim walks this index in due order; only active, scheduled rows are in it.
    await q.query(`CREATE INDEX connections_due ON connections (next_refresh_at) WHERE status = 'active' AND next_refresh_at IS NOT NULL`);
    await q.query(`CREATE INDEX connections_tenant ON connections (tenant_id, id)`);
    await q.query(`CREATE INDEX connections_vault_key_id ON connections (vault_key_id) WHERE vault_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX connections_in_flight ON connections (refresh_started_at) WHERE refresh_started_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE connect_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash bytea NOT NULL UNIQUE,
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        platform varchar(16) NOT NULL,
        tenant_external_id varchar(255) NOT NULL,
        user_external_id varchar(255),
        return_url varchar(2048),
        purpose varchar(16) NOT NULL CHECK (purpose IN ('connect', 'resync')),
        connection_id uuid,
        incident_id uuid,
        created_by uuid,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        voided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE oauth_states (
        id uuid PRIMARY KEY,
        state_hash bytea NOT NULL UNIQUE,
        link_id uuid NOT NULL REFERENCES connect_links (id) ON DELETE CASCADE,
        code_verifier bytea NOT NULL,
        vault_key_id varchar(32),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX oauth_states_vault_key_id ON oauth_states (vault_key_id) WHERE vault_key_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor varchar(64) NOT NULL,
        connection_id uuid,
        tenant_id uuid,
        action varchar(40) NOT NULL,
        outcome varchar(40) NOT NULL,
        detail jsonb
      )`);
    await q.query(`CREATE INDEX audit_events_connection ON audit_events (connection_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP TABLE oauth_states`);
    await q.query(`DROP TABLE connect_links`);
    await q.query(`DROP TABLE connections`);
  }
}
