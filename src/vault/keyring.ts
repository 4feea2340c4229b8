/** One key of the ring. `id` travels in every ciphertext; `key` never leaves the process. */
export interface VaultKey {
  id: string;
  key: Uint8Array;
}

export interface Keyring {
  /** The first key: every new ciphertext uses it. */
  active: VaultKey;
  /** Every key, by id: any of them decrypts. */
  byId: ReadonlyMap<string, VaultKey>;
}

export const KEY_BYTES = 32;
export const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/**
 * Parses `VAULT_KEYS` (`id1:base64key,id2:base64key`). Errors name the key id and what is
 * wrong, never the key material.
 */
export function parseKeyring(text: string): Keyring {
  const keys: VaultKey[] = [];
  const entries = text.split(',').map((e) => e.trim());
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const material = colon > 0 ? entry.slice(colon + 1) : '';
    const where = id ? `key "${id}"` : `entry ${index + 1}`;
    if (!KEY_ID.test(id)) throw new KeyringError(`VAULT_KEYS ${where}: expected id:base64key with an id of 1-32 letters, digits, '.', '_' or '-'`);
    if (keys.some((k) => k.id === id)) throw new KeyringError(`VAULT_KEYS key "${id}" appears twice`);
    const key = BASE64.test(material) ? Buffer.from(material, material.includes('-') || material.includes('_') ? 'base64url' : 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) throw new KeyringError(`VAULT_KEYS key "${id}" must be ${KEY_BYTES} bytes of base64 (got ${key.length} bytes)`);
    keys.push({ id, key: new Uint8Array(key) });
  });
  const [active] = keys;
  if (!active) throw new KeyringError('VAULT_KEYS is empty');
  return { active, byId: new Map(keys.map((k) => [k.id, k])) };
}
