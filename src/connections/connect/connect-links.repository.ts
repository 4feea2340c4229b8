import { Injectable } from '@nestjs/common';
import { queryRows } from '../../database/sql';
import { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../../config/app-config';
import type { SealedSecret } from '../../vault/secret';

export interface LinkRow {
  id: string;
  tenantId: string;
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string | null;
  returnUrl: string | null;
  purpose: 'connect' | 'resync';
  connectionId: string | null;
  incidentId: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  voidedAt: Date | null;
}

const LINK_COLUMNS = `id, tenant_id AS "tenantId", platform, tenant_external_id AS "tenantExternalId", user_external_id AS "userExternalId",
  return_url AS "returnUrl", purpose, connection_id AS "connectionId", incident_id AS "incidentId", expires_at AS "expiresAt",
  used_at AS "usedAt", voided_at AS "voidedAt"`;

/** The SQL of connect links and OAuth states. Tokens and states are stored as hashes only. */
@Injectable()
export class ConnectLinksRepository {
  constructor(readonly db: DataSource) {}

  /** In the caller's transaction when given one (a re-sync link written with the break it is for). */
  async insertLink(l: Omit<LinkRow, 'id' | 'usedAt' | 'voidedAt'> & { tokenHash: Buffer; createdBy: string | null }, m: DataSource | EntityManager = this.db): Promise<LinkRow> {
    const rows = await queryRows<LinkRow>(
      m,
      `INSERT INTO connect_links (token_hash, tenant_id, platform, tenant_external_id, user_external_id, return_url, purpose, connection_id, incident_id, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${LINK_COLUMNS}`,
      [l.tokenHash, l.tenantId, l.platform, l.tenantExternalId, l.userExternalId, l.returnUrl, l.purpose, l.connectionId, l.incidentId, l.createdBy, l.expiresAt],
    );
    return rows[0];
  }

  async findLinkByHash(tokenHash: Buffer): Promise<LinkRow | undefined> {
    const rows = await queryRows<LinkRow>(this.db, `SELECT ${LINK_COLUMNS} FROM connect_links WHERE token_hash = $1`, [tokenHash]);
    return rows[0];
  }

  async findLink(id: string): Promise<LinkRow | undefined> {
    const rows = await queryRows<LinkRow>(this.db, `SELECT ${LINK_COLUMNS} FROM connect_links WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Single use: true only for the one caller that consumed a live link. */
  async consumeLink(m: EntityManager, id: string): Promise<boolean> {
    const rows = await queryRows(m, `UPDATE connect_links SET used_at = now() WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > now() RETURNING id`, [id]);
    return rows.length === 1;
  }

  /** Voids the live re-sync links of an incident (it resolved another way). */
  async voidLinksOfIncident(incidentId: string): Promise<number> {
    const rows = await queryRows(this.db, `UPDATE connect_links SET voided_at = now() WHERE incident_id = $1 AND used_at IS NULL AND voided_at IS NULL RETURNING id`, [incidentId]);
    return rows.length;
  }

  /**
   * Stores a state and keeps at most `maxPending` pending (unused, unexpired) states on its link,
   * dropping the oldest. The link row is locked first, so concurrent POSTs on one link queue up
   * here and each sees the others' states: they can never leave more than `maxPending`.
   */
  async insertState(
    s: { id: string; stateHash: Buffer; nonceHash: Buffer; linkId: string; codeVerifier: SealedSecret; vaultKeyId: string; expiresAt: Date },
    maxPending: number,
  ): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`SELECT 1 FROM connect_links WHERE id = $1 FOR UPDATE`, [s.linkId]);
      await m.query(
        `DELETE FROM oauth_states WHERE id IN (
           SELECT id FROM oauth_states WHERE link_id = $1 AND used_at IS NULL AND expires_at > now()
           ORDER BY created_at DESC OFFSET $2)`,
        [s.linkId, maxPending - 1],
      );
      // clock_timestamp(), not the transaction's now(): a POST that waited for the lock is newer.
      await m.query(
        `INSERT INTO oauth_states (id, state_hash, nonce_hash, link_id, code_verifier, vault_key_id, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())`,
        [s.id, s.stateHash, s.nonceHash, s.linkId, s.codeVerifier, s.vaultKeyId, s.expiresAt],
      );
    });
  }

  /** A pending state, read without taking it (the browser binding is checked first). */
  async findPendingState(stateHash: Buffer): Promise<{ id: string; linkId: string; nonceHash: Buffer | null } | undefined> {
    const rows = await queryRows<{ id: string; linkId: string; nonceHash: Buffer | null }>(
      this.db,
      `SELECT id, link_id AS "linkId", nonce_hash AS "nonceHash" FROM oauth_states WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [stateHash],
    );
    return rows[0];
  }

  /** Takes a state once: a used or expired state gives undefined. */
  async takeState(id: string): Promise<{ id: string; linkId: string; codeVerifier: SealedSecret } | undefined> {
    const rows = await queryRows<{ id: string; linkId: string; codeVerifier: SealedSecret }>(
      this.db,
      `UPDATE oauth_states SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now()
       RETURNING id, link_id AS "linkId", code_verifier AS "codeVerifier"`,
      [id],
    );
    return rows[0];
  }

  /**
   * Deletes up to `limit` states past their expiry (used ones too: they are dead either way),
   * oldest first through `oauth_states_expires_at`. SKIP LOCKED lets replicas prune side by side.
   */
  async pruneExpiredStates(limit: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      `DELETE FROM oauth_states WHERE id IN (
         SELECT id FROM oauth_states WHERE expires_at < now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [limit],
    );
    return rows.length;
  }

  /** Deletes up to `limit` links that expired before `expiredBefore`, through `connect_links_expires_at`. */
  async pruneLinks(expiredBefore: Date, limit: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      `DELETE FROM connect_links WHERE id IN (
         SELECT id FROM connect_links WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [expiredBefore, limit],
    );
    return rows.length;
  }
}
