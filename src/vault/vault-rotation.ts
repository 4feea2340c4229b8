import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SealedTable, SEALED_TABLES } from './sealed-tables';
import { Vault } from './vault';

export interface RotationProgress {
  /** Rows still under another key when the count was taken. */
  total: number;
  moved: number;
}

/**
 * Re-encrypts every stored secret under the active key. Each batch locks its rows
 * (`FOR UPDATE SKIP LOCKED`), so it is safe beside a running service: a refresh that holds
 * a row is skipped and picked up by a later pass, and nothing is overwritten with stale
 * plaintext because the row is re-read under the lock. Rows already moved are never
 * selected again, so a crashed run resumes where it stopped.
 */
@Injectable()
export class VaultRotation {
  constructor(
    private readonly db: DataSource,
    private readonly vault: Vault,
  ) {}

  async remaining(): Promise<number> {
    let total = 0;
    for (const t of SEALED_TABLES) {
      const [row] = await this.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${t.table} WHERE vault_key_id IS NOT NULL AND vault_key_id <> $1`, [
        this.vault.activeKeyId,
      ]);
      total += row.n;
    }
    return total;
  }

  /** Moves everything; `onProgress` after each batch. Returns the number of rows moved. */
  async rotate(batchSize = 500, onProgress?: (p: RotationProgress) => void): Promise<number> {
    const total = await this.remaining();
    let moved = 0;
    for (let idle = 0; idle < 50;) {
      let batchMoved = 0;
      for (const t of SEALED_TABLES) batchMoved += await this.db.transaction((m) => this.rotateBatch(m, t, batchSize));
      moved += batchMoved;
      onProgress?.({ total, moved });
      if (batchMoved > 0) continue;
      if ((await this.remaining()) === 0) break;
      idle++; // every remaining row is locked by a running refresh: wait for it
      await new Promise((r) => setTimeout(r, 100));
    }
    return moved;
  }

  private async rotateBatch(m: EntityManager, t: SealedTable, limit: number): Promise<number> {
    const cols = t.columns.map((c) => c.column);
    const rows: Record<string, unknown>[] = await m.query(
      `SELECT id, ${cols.join(', ')} FROM ${t.table}
        WHERE vault_key_id IS NOT NULL AND vault_key_id <> $1
        ORDER BY vault_key_id, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [this.vault.activeKeyId, limit],
    );
    for (const row of rows) {
      const values = t.columns.map(({ column, purpose }) => {
        const sealed = row[column];
        if (!Buffer.isBuffer(sealed)) return null;
        const binding = { owner: `${t.owner}:${String(row.id)}`, purpose };
        return this.vault.seal(this.vault.open(sealed, binding), binding);
      });
      const sets = cols.map((c, i) => `${c} = $${i + 2}`).join(', ');
      await m.query(`UPDATE ${t.table} SET ${sets}, vault_key_id = $${cols.length + 2} WHERE id = $1`, [row.id, ...values, this.vault.activeKeyId]);
    }
    return rows.length;
  }
}
