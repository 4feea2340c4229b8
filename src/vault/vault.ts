import { randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { Keyring, KEY_ID, VaultKey } from './keyring';
import { SealedSecret, Secret, SecretBinding } from './secret';

/**
 * Ciphertext layout (docs/vault.md):
 *   [0]        format version, 0x01
 *   [1]        length L of the key id
 *   [2, 2+L)   key id, ASCII
 *   [2+L, +24) nonce, random per encryption
 *   [.., end)  XChaCha20-Poly1305 ciphertext with its 16-byte tag
 * The associated data binds it to its owner, purpose and key id, so a ciphertext moved to
 * another row, column or key id does not open.
 */
const VERSION = 0x01;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AD_PREFIX = 'autoheal.vault.v1';

export type VaultErrorCode = 'malformed' | 'unknown-key' | 'authentication-failed';

export class VaultError extends Error {
  override name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Nonces come from Node's CSPRNG, drawn 64 at a time: the same quality as libsodium's
 * `randombytes_buf`, without a system call per encryption (random 24-byte nonces make
 * reuse negligible, which is why XChaCha20 is used).
 */
const NONCE_POOL = 64;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function nextNonce(): Uint8Array {
  if (poolOffset >= pool.length) {
    pool = randomBytes(NONCE_BYTES * NONCE_POOL);
    poolOffset = 0;
  }
  const nonce = pool.subarray(poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

function associatedData(binding: SecretBinding, keyId: string): Uint8Array {
  return Buffer.from(`${AD_PREFIX}\u0000${binding.owner}\u0000${binding.purpose}\u0000${keyId}`, 'utf8');
}

/** The only code that sees plaintext and key material. Synchronous once created. */
export class Vault {
  private constructor(private readonly keyring: Keyring) {}

  static async create(keyring: Keyring): Promise<Vault> {
    await sodium.ready;
    return new Vault(keyring);
  }

  get activeKeyId(): string {
    return this.keyring.active.id;
  }

  hasKey(id: string): boolean {
    return this.keyring.byId.has(id);
  }

  seal(secret: Secret, binding: SecretBinding): SealedSecret {
    const { id, key } = this.keyring.active;
    const nonce = nextNonce();
    const cipher = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secret.reveal(), associatedData(binding, id), null, nonce, key);
    const out = Buffer.allocUnsafe(2 + id.length + NONCE_BYTES + cipher.length);
    out[0] = VERSION;
    out[1] = id.length;
    out.write(id, 2, 'ascii');
    out.set(nonce, 2 + id.length);
    out.set(cipher, 2 + id.length + NONCE_BYTES);
    return out as SealedSecret;
  }

  open(sealed: Buffer, binding: SecretBinding): Secret {
    const keyId = Vault.keyIdOf(sealed);
    const vaultKey: VaultKey | undefined = this.keyring.byId.get(keyId);
    if (!vaultKey) throw new VaultError('unknown-key', `the ciphertext uses key "${keyId}", which is not in VAULT_KEYS`);
    const start = 2 + keyId.length;
    const nonce = sealed.subarray(start, start + NONCE_BYTES);
    const cipher = sealed.subarray(start + NONCE_BYTES);
    try {
      const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, cipher, associatedData(binding, keyId), nonce, vaultKey.key, 'text');
      return new Secret(plain);
    } catch {
      throw new VaultError(
        'authentication-failed',
        `the ciphertext for ${binding.owner} ${binding.purpose} does not authenticate (tampered, moved, or sealed with another key "${keyId}")`,
      );
    }
  }

  /** The key id recorded in a ciphertext; throws `malformed` on anything that is not one. */
  static keyIdOf(sealed: Buffer): string {
    if (sealed.length < 2 || sealed[0] !== VERSION) throw new VaultError('malformed', 'not a vault ciphertext (unknown format version)');
    const length = sealed[1];
    if (length === 0 || sealed.length < 2 + length + NONCE_BYTES + TAG_BYTES) throw new VaultError('malformed', 'not a vault ciphertext (truncated)');
    // latin1, not ascii: Node's ascii decoder drops the high bit, which would let a flipped
    // bit in the key id still name the same key.
    const keyId = sealed.toString('latin1', 2, 2 + length);
    if (!KEY_ID.test(keyId)) throw new VaultError('malformed', 'not a vault ciphertext (bad key id)');
    return keyId;
  }
}
