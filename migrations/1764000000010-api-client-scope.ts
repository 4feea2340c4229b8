import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §5: a key carries the origins its connect links may return to, and when it was last
 * used (for `GET /v1/api-clients`; written at most once a minute per key, see api-clients.service).
 */
export class ApiClientScope1764000000010 implements MigrationInterface {
  name = 'ApiClientScope1764000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_clients ADD COLUMN return_origins text[] NOT NULL DEFAULT '{}', ADD COLUMN last_used_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_clients DROP COLUMN last_used_at, DROP COLUMN return_origins`);
  }
}
