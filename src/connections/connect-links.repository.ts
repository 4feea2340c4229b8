import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql';
import { DataSource, EntityManager } from 'typeorm';
import type { Platform } from '../config/app-config';
import type { SealedSecret } from '../vault/secret';

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

  async insertLink(l: Omit<LinkRow, 'id' | 'usedAt' | 'voidedAt'> & { tokenHash: Buffer; createdBy: string | null }): Promise<LinkRow> {
    const rows = await queryRows<LinkRow>(this.db,
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
    const rows = await queryRows(m,
      `UPDATE connect_links SET used_at = now() WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > now() RETURNING id`,
      [id],
    );
    return rows.length === 1;
  }

  /** Voids the live re-sync links of an incident (it resolved another way). */
  async voidLinksOfIncident(incidentId: string): Promise<number> {
    const rows = await queryRows(this.db, `UPDATE connect_links SET voided_at = now() WHERE incident_id = $1 AND used_at IS NULL AND voided_at IS NULL RETURNING id`, [incidentId]);
    return rows.length;
  }

  async insertState(s: { id: string; stateHash: Buffer; linkId: string; codeVerifier: SealedSecret; vaultKeyId: string; expiresAt: Date }): Promise<void> {
    await queryRows(this.db,
      `INSERT INTO oauth_states (id, state_hash, link_id, code_verifier, vault_key_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [s.id, s.stateHash, s.linkId, s.codeVerifier, s.vaultKeyId, s.expiresAt],
    );
  }

  /** Takes a state once: unknown, used or expired states give undefined. */
  async takeState(stateHash: Buffer): Promise<{ id: string; linkId: string; codeVerifier: SealedSecret } | undefined> {
    const rows = await queryRows<{ id: string; linkId: string; codeVerifier: SealedSecret }>(this.db,
      `UPDATE oauth_states SET used_at = now() WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
       RETURNING id, link_id AS "linkId", code_verifier AS "codeVerifier"`,
      [stateHash],
    );
    return rows[0];
  }

  /** Removes states past their life, so the table stays small. */
  async pruneStates(): Promise<void> {
    await queryRows(this.db, `DELETE FROM oauth_states WHERE expires_at < now() - interval '1 hour'`);
  }
}
