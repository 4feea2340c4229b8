import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReadinessContributor } from '../observability/readiness.service';
import { SEALED_TABLES } from './sealed-tables';
import { Vault } from './vault';

const CACHE_MS = 10_000;

/**
 * Which key ids stored rows use. Readiness fails when a row uses a key id that is not in
 * the ring: those secrets cannot be opened. A skip scan over the `vault_key_id` index
 * touches one index entry per distinct key id, so this stays cheap with millions of rows.
 */
@Injectable()
export class VaultCensus extends ReadinessContributor {
  private cached?: { at: number; ids: string[] };

  constructor(
    private readonly db: DataSource,
    private readonly vault: Vault,
  ) {
    super();
  }

  async keyIdsInUse(): Promise<string[]> {
    const ids = new Set<string>();
    for (const { table } of SEALED_TABLES) {
      const rows: { id: string }[] = await this.db.query(
        `WITH RECURSIVE ids AS (
           (SELECT vault_key_id AS id FROM ${table} WHERE vault_key_id IS NOT NULL ORDER BY vault_key_id LIMIT 1)
           UNION ALL
           SELECT (SELECT vault_key_id FROM ${table} WHERE vault_key_id > ids.id ORDER BY vault_key_id LIMIT 1) FROM ids WHERE ids.id IS NOT NULL
         ) SELECT id FROM ids WHERE id IS NOT NULL`,
      );
      for (const r of rows) ids.add(r.id);
    }
    return [...ids].sort();
  }

  async contribute(details: Record<string, unknown>, operator: boolean): Promise<boolean> {
    let inUse: string[] | undefined;
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) inUse = this.cached.ids;
    else {
      inUse = await this.keyIdsInUse().catch(() => undefined);
      if (inUse) this.cached = { at: Date.now(), ids: inUse };
    }
    const unknownKeyIds = (inUse ?? []).filter((id) => !this.vault.hasKey(id));
    const ok = inUse !== undefined && unknownKeyIds.length === 0;
    // Key ids name the keyring's layout: for operators only, never for anonymous probes.
    details.vault = operator
      ? { status: ok ? 'up' : 'down', activeKeyId: this.vault.activeKeyId, ...(inUse ? { keyIdsInUse: inUse, unknownKeyIds } : {}) }
      : { status: ok ? 'up' : 'down' };
    return ok;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
