import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11: a gap-free cursor for GET /v1/events. `created_at` is now(), the start of the
 * writing transaction, so an event of a transaction that started earlier but commits later
 * than a page already read fell behind the cursor and was never seen. Each event now records
 * the top-level id of the transaction that wrote it (`pg_current_xact_id()`, the same for every
 * row of a transaction, savepoints included), and the log is read by (xid, id) only below the
 * reader's snapshot xmin, where every transaction has finished (src/events/events.repository.ts).
 *
 * Rows written before this migration get xid 0: below every xmin, first in the order. A fast
 * default, so the table is not rewritten. `events_created_id` stays for pruning, `since` and
 * replay; the (tenant_id, created_at, id) index served only the old paging.
 */
export class EventsXidCursor1764000000016 implements MigrationInterface {
  name = 'EventsXidCursor1764000000016';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '0'`);
    await q.query(`ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()`);
    await q.query(`CREATE INDEX events_xid_id ON events (xid, id)`);
    await q.query(`CREATE INDEX events_tenant_xid_id ON events (tenant_id, xid, id)`);
    await q.query(`DROP INDEX events_tenant_created_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_tenant_created_id ON events (tenant_id, created_at, id)`);
    await q.query(`DROP INDEX events_tenant_xid_id`);
    await q.query(`DROP INDEX events_xid_id`);
    await q.query(`ALTER TABLE events DROP COLUMN xid`);
  }
}
