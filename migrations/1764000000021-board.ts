import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §12: board sessions. A signed-in admin key becomes a session: only the SHA-256 of the
 * session id is stored, with the key's client (a revoked key ends its sessions: they are read
 * through a join that skips revoked clients) and the session's CSRF token. The audit index
 * serves the overview's refresh-outcomes chart (the last 24 h of `token.refresh`).
 */
export class Board1764000000021 implements MigrationInterface {
  name = 'Board1764000000021';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE board_sessions (
        id_hash bytea PRIMARY KEY,
        api_client_id uuid NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
        csrf_token varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX board_sessions_expiry ON board_sessions (expires_at)`);
    await q.query(`CREATE INDEX audit_events_action_at ON audit_events (action, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_action_at`);
    await q.query(`DROP TABLE board_sessions`);
  }
}
