import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11 `client.misconfigured` / `client.recovered`: whether our own OAuth client of each
 * platform is refused (wrong or expired secret, `invalid_client`), shared by every replica so
 * each transition is told once. `misconfigured_since` is set by the first refusal after a
 * working refresh and cleared by the next refresh that works, each write with its event
 * (src/connections/refresh/client-health.ts). `code` is the platform's error code, never its text.
 */
export class PlatformClients1764000000018 implements MigrationInterface {
  name = 'PlatformClients1764000000018';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_clients (
        platform text PRIMARY KEY,
        misconfigured_since timestamptz,
        code text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform_clients`);
  }
}
