import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Caller, Role } from '../common/auth';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';

export const SESSION_COOKIE = 'autoheal_board';

export interface BoardSession {
  caller: Caller;
  csrfToken: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const token = (): string => randomBytes(32).toString('base64url');

/**
 * SPEC §12: an admin key is exchanged for a session once; the browser holds only the random
 * session id (the cookie), the database only its hash. Each request reads the session through
 * its API client, so a revoked key or a narrowed scope takes effect at once.
 */
@Injectable()
export class BoardSessions {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async create(clientId: string): Promise<{ id: string; expiresAt: Date }> {
    const id = token();
    const expiresAt = new Date(Date.now() + this.config.boardSessionTtlMs);
    await this.db.query(`DELETE FROM board_sessions WHERE expires_at <= now()`); // a sign-in sweeps the expired ones (an index range)
    await this.db.query(`INSERT INTO board_sessions (id_hash, api_client_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`, [digest(id), clientId, token(), expiresAt]);
    return { id, expiresAt };
  }

  async find(id: string | undefined): Promise<BoardSession | undefined> {
    if (!id || id.length > 64) return undefined;
    const [row] = await queryRows<{ clientId: string; role: Role; tenantIds: string[] | null; csrfToken: string }>(
      this.db,
      `SELECT c.id::text AS "clientId", c.role, c.tenant_ids::text[] AS "tenantIds", s.csrf_token AS "csrfToken"
         FROM board_sessions s JOIN api_clients c ON c.id = s.api_client_id
        WHERE s.id_hash = $1 AND s.expires_at > now() AND c.revoked_at IS NULL AND c.role = 'admin'`,
      [digest(id)],
    );
    return row && { caller: { clientId: row.clientId, role: row.role, tenantIds: row.tenantIds }, csrfToken: row.csrfToken };
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await this.db.query(`DELETE FROM board_sessions WHERE id_hash = $1`, [digest(id)]);
  }
}

/** Constant-time comparison of a form's CSRF token with the session's. */
export function csrfMatches(session: BoardSession, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
