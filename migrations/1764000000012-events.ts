import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11: the event log. Each event is written in the transaction of the change it tells
 * (src/events/event-log.ts). `sequence` comes from one sequence, so the events of a connection
 * (written under its row lock) carry increasing numbers. Read paged by (created_at, id), by
 * tenant, and pruned after 30 days through the created_at index.
 */
export class Events1764000000012 implements MigrationInterface {
  name = 'Events1764000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE events_sequence`);
    await q.query(
      `CREATE TABLE events (
         id text PRIMARY KEY CHECK (id LIKE 'evt\\_%'),
         type text NOT NULL,
         tenant_id uuid,
         connection_id uuid,
         sequence bigint NOT NULL DEFAULT nextval('events_sequence'),
         data jsonb NOT NULL DEFAULT '{}'::jsonb,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await q.query(`ALTER SEQUENCE events_sequence OWNED BY events.sequence`);
    await q.query(`CREATE INDEX events_created_id ON events (created_at, id)`);
    await q.query(`CREATE INDEX events_tenant_created_id ON events (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX events_connection_sequence ON events (connection_id, sequence) WHERE connection_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE events`);
  }
}
