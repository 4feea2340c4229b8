import { MigrationInterface, QueryRunner } from 'typeorm';

export class Heal1764000000003 implements MigrationInterface {
  name = 'Heal1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE incidents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        platform varchar(16) NOT NULL,
        condition varchar(40) NOT NULL,
        audience varchar(8) NOT NULL CHECK (audience IN ('admin', 'user')),
        connection_id uuid REFERENCES connections (id),
        status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
        detected_at timestamptz NOT NULL,
        opened_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        reminders_sent integer NOT NULL DEFAULT 0,
        next_reminder_at timestamptz,
        probe_attempts integer NOT NULL DEFAULT 0,
        next_probe_at timestamptz,
        CHECK ((audience = 'user') = (connection_id IS NOT NULL))
      )`);
    // One open incident per (tenant, condition) for admins and per (connection, condition) for users.
    await q.query(`CREATE UNIQUE INDEX incidents_open_admin ON incidents (tenant_id, condition) WHERE status = 'open' AND audience = 'admin'`);
    await q.query(`CREATE UNIQUE INDEX incidents_open_user ON incidents (connection_id, condition) WHERE status = 'open' AND audience = 'user'`);
    await q.query(`CREATE INDEX incidents_tenant ON incidents (tenant_id, opened_at DESC)`);
    await q.query(`CREATE INDEX incidents_reminders ON incidents (next_reminder_at) WHERE status = 'open' AND next_reminder_at IS NOT NULL`);
    await q.query(`CREATE INDEX incidents_probes ON incidents (next_probe_at) WHERE status = 'open' AND next_probe_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE incident_connections (
        incident_id uuid NOT NULL REFERENCES incidents (id),
        connection_id uuid NOT NULL REFERENCES connections (id),
        PRIMARY KEY (incident_id, connection_id)
      )`);

    // The outbox: a prompt is a row first, delivered after.
    await q.query(`
      CREATE TABLE prompts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        incident_id uuid NOT NULL REFERENCES incidents (id),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        platform varchar(16) NOT NULL,
        kind varchar(24) NOT NULL,
        recipient varchar(255) NOT NULL,
        recipient_email varchar(255),
        dedupe_key varchar(400) NOT NULL UNIQUE,
        status varchar(8) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_owner varchar(64),
        lease_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX prompts_due ON prompts (next_attempt_at) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX prompts_incident ON prompts (incident_id)`);
    await q.query(`CREATE INDEX connections_unhealed ON connections (updated_at) WHERE status IN ('needs_reauth', 'blocked') AND incident_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_unhealed`);
    await q.query(`DROP TABLE prompts`);
    await q.query(`DROP TABLE incident_connections`);
    await q.query(`DROP TABLE incidents`);
  }
}
