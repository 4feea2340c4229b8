import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config';
import { Keyring, KEY_BYTES, KeyringError, parseKeyring } from './keyring';

/**
 * The keyring of SPEC §6: `VAULT_KEYS` when set; on the embedded default without it, a key
 * generated once into `$DATA_DIR/vault.keys` (0600). With `DATABASE_URL` and no keys,
 * `loadConfig` has already refused to start.
 */
export function loadKeyring(config: AppConfig): Keyring {
  if (config.vaultKeys) return parseKeyring(config.vaultKeys);
  if (!config.embeddedDatabase) throw new KeyringError('VAULT_KEYS is required when DATABASE_URL is set');
  const file = path.join(config.dataDir, 'vault.keys');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o711 });
    const id = `dev-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    writeFileSync(file, `${id}:${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    new Logger('Vault').warn(`VAULT_KEYS is unset: generated a development key into ${file}. Set VAULT_KEYS in production.`);
  }
  return parseKeyring(readFileSync(file, 'utf8').trim());
}
