import { Injectable } from '@nestjs/common';
import type { TokenSet } from '../platforms/platform';
import { Secret } from '../vault/secret';
import { Vault } from '../vault/vault';
import type { ConnectionRow } from './connection.types';
import type { TokenWrite } from './connection-state';

const binding = (connectionId: string, purpose: 'access_token' | 'refresh_token') => ({ owner: `connection:${connectionId}`, purpose });

/** Seals and opens a connection's tokens, bound to the connection row. */
@Injectable()
export class TokenSealer {
  constructor(private readonly vault: Vault) {}

  /** `tokens.scopes` are already the granted ones (SPEC §8, resolved by the adapter): stored as they are. */
  seal(connectionId: string, tokens: Omit<TokenSet, 'scopesStated'>, nextRefreshAt: Date | null): TokenWrite {
    return {
      accessToken: this.vault.seal(tokens.accessToken, binding(connectionId, 'access_token')),
      refreshToken: tokens.refreshToken ? this.vault.seal(tokens.refreshToken, binding(connectionId, 'refresh_token')) : null,
      vaultKeyId: this.vault.activeKeyId,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? null,
      scopes: tokens.scopes,
      nextRefreshAt,
    };
  }

  openAccess(row: ConnectionRow): Secret | undefined {
    return row.accessToken ? this.vault.open(row.accessToken, binding(row.id, 'access_token')) : undefined;
  }

  openRefresh(row: ConnectionRow): Secret | undefined {
    return row.refreshToken ? this.vault.open(row.refreshToken, binding(row.id, 'refresh_token')) : undefined;
  }
}
