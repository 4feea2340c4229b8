import { inspect } from 'node:util';

const REDACTED = '[secret]';

/**
 * A plaintext secret (token, bot token). It refuses to be serialised, printed or
 * concatenated by accident; `reveal()` is the one deliberate way out, used only where the
 * value goes on the wire.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: Secret): boolean {
    return other.#value === this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

declare const sealedBrand: unique symbol;

/** A vault ciphertext as stored in a `bytea` column. Only the vault can make or open one. */
export type SealedSecret = Buffer & { readonly [sealedBrand]: true };

/**
 * What a ciphertext is bound to: the row that owns it and the purpose within the row.
 * Sealing with one binding and opening with another fails.
 */
export interface SecretBinding {
  /** e.g. `connection:<uuid>` or `tenant:<uuid>` */
  owner: string;
  /** e.g. `access_token`, `refresh_token`, `bot_token` */
  purpose: string;
}
