import fc from 'fast-check';
import { inspect } from 'node:util';
import { parseKeyring } from './keyring';
import { Secret } from './secret';
import { Vault, VaultError } from './vault';

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
const binding = { owner: 'connection:7f1c0c9e-7a55-4a43-a3a5-0a2a4e8f6d10', purpose: 'refresh_token' };

async function vaultOf(keys: string): Promise<Vault> {
  return Vault.create(parseKeyring(keys));
}

function expectVaultError(fn: () => unknown, code: VaultError['code']): VaultError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VaultError);
    expect((e as VaultError).code).toBe(code);
    return e as VaultError;
  }
  throw new Error('expected a VaultError');
}

describe('Vault', () => {
  it('round-trips and uses a fresh nonce each time', async () => {
    const v = await vaultOf(`k1:${key(1)}`);
    const a = v.seal(new Secret('token-value'), binding);
    const b = v.seal(new Secret('token-value'), binding);
    expect(a.equals(b)).toBe(false);
    expect(v.open(a, binding).reveal()).toBe('token-value');
    expect(a.includes(Buffer.from('token-value'))).toBe(false);
    expect(Vault.keyIdOf(a)).toBe('k1');
  });

  it('property: any plaintext round-trips; any single flipped bit fails to open', async () => {
    const v = await vaultOf(`k1:${key(1)}`);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), fc.nat(), (plain, bitSeed) => {
        const sealed = v.seal(new Secret(plain), binding);
        expect(v.open(sealed, binding).reveal()).toBe(plain);
        const bit = bitSeed % (sealed.length * 8);
        const tampered = Buffer.from(sealed);
        tampered[bit >> 3] ^= 1 << (bit & 7);
        expect(() => v.open(tampered, binding)).toThrow(VaultError);
      }),
      { numRuns: 300 },
    );
  });

  it('fails on swapped associated data: another owner, purpose or key id', async () => {
    const v = await vaultOf(`k1:${key(1)},k2:${key(1)}`);
    const sealed = v.seal(new Secret('t'), binding);
    expectVaultError(() => v.open(sealed, { ...binding, owner: 'connection:00000000-0000-0000-0000-000000000000' }), 'authentication-failed');
    expectVaultError(() => v.open(sealed, { ...binding, purpose: 'access_token' }), 'authentication-failed');
    // Same key material under another id: the key id is bound too.
    const relabelled = Buffer.from(sealed);
    relabelled.write('k2', 2, 'ascii');
    expectVaultError(() => v.open(relabelled, binding), 'authentication-failed');
  });

  it('fails on an unknown key id naming it, and on a wrong key', async () => {
    const sealed = (await vaultOf(`old:${key(1)}`)).seal(new Secret('t'), binding);
    const other = await vaultOf(`k2:${key(2)}`);
    const e = expectVaultError(() => other.open(sealed, binding), 'unknown-key');
    expect(e.message).toContain('"old"');
    expect(e.message).not.toContain(key(1));
    const wrongKey = await vaultOf(`old:${key(9)}`);
    expectVaultError(() => wrongKey.open(sealed, binding), 'authentication-failed');
  });

  it('fails on truncated or foreign input', async () => {
    const v = await vaultOf(`k1:${key(1)}`);
    const sealed = v.seal(new Secret('abc'), binding);
    expectVaultError(() => v.open(sealed.subarray(0, 20), binding), 'malformed');
    expectVaultError(() => v.open(sealed.subarray(0, sealed.length - 1), binding), 'authentication-failed');
    expectVaultError(() => v.open(Buffer.from('plain text token'), binding), 'malformed');
    expectVaultError(() => v.open(Buffer.alloc(0), binding), 'malformed');
  });

  it('encrypts with the first key and decrypts with any key of the ring', async () => {
    const before = await vaultOf(`k1:${key(1)}`);
    const old = before.seal(new Secret('old'), binding);
    const after = await vaultOf(`k2:${key(2)},k1:${key(1)}`);
    expect(after.activeKeyId).toBe('k2');
    expect(after.open(old, binding).reveal()).toBe('old');
    expect(Vault.keyIdOf(after.seal(new Secret('new'), binding))).toBe('k2');
  });
});

describe('Secret', () => {
  it('cannot be logged, serialised or concatenated by accident', () => {
    const s = new Secret('xoxe-very-secret');
    expect(JSON.stringify({ s })).toBe('{"s":"[secret]"}');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolating a Secret by accident is what this checks.
    expect(`${s}`).toBe('[secret]');
    expect(inspect({ s })).not.toContain('very-secret');
    expect(s.reveal()).toBe('xoxe-very-secret');
  });
});
