import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §5: the OAuth flow is bound to the browser that started it (only the nonce's SHA-256 is
 * stored with the state), and states and links are pruned by a timer through indexes on their
 * expiry. States created before this migration have no nonce hash and can no longer complete;
 * they live 10 minutes, so only flows in progress during the upgrade are affected.
 */
export class OAuthBrowserBinding1764000000011 implements MigrationInterface {
  name = 'OAuthBrowserBinding1764000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_states ADD COLUMN nonce_hash bytea`);
    // The per-link cap (5 pending states) reads a link's states newest first; the cascade from
    // a pruned link also needs it, or each deleted link would scan the table.
    await q.query(`CREATE INDEX oauth_states_link_created ON oauth_states (link_id, created_at)`);
    await q.query(`CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at)`);
    await q.query(`CREATE INDEX connect_links_expires_at ON connect_links (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connect_links_expires_at`);
    await q.query(`DROP INDEX oauth_states_expires_at`);
    await q.query(`DROP INDEX oauth_states_link_created`);
    await q.query(`ALTER TABLE oauth_states DROP COLUMN nonce_hash`);
  }
}
