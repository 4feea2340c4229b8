import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11 `connection.degraded` / `connection.recovered`: `degraded_at` is when a connection
 * whose access token had expired first failed to refresh transiently (the relay cannot get a
 * token), null otherwise. Set once per outage by the refresher's transient write, cleared by the
 * refresh that works (which records `connection.recovered`), and without an event by a break,
 * a re-connect or a revoke (src/connections/connection-state.ts). Each event is written in the
 * transaction that sets or clears the column, so it is told once per outage.
 */
export class ConnectionDegraded1764000000017 implements MigrationInterface {
  name = 'ConnectionDegraded1764000000017';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN degraded_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections DROP COLUMN degraded_at`);
  }
}
