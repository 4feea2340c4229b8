import { Injectable, Logger } from '@nestjs/common';
import type { ConnectionRow } from './connection.types';

/** Something that reacts to connection state (Auto Heal). Its state is already committed. */
export interface ConnectionListener {
  /**
   * A refresh failed for good (or scopes drifted): the row is `needs_reauth` or `blocked`.
   * Answers the incident the connection is now in, when it knows it.
   */
  broken?(row: ConnectionRow): Promise<string | undefined>;
  /** OAuth completed (a connect or a re-sync) or tokens were imported: the row is `active`. */
  connected?(row: ConnectionRow, how: 'connect' | 'resync' | 'import'): Promise<void>;
  /** A refresh succeeded on a connection that was blocked (an admin incident's probe). */
  recovered?(row: ConnectionRow): Promise<void>;
  /** A client revoked the connection: nobody should be prompted about it any more. */
  revoked?(row: ConnectionRow): Promise<void>;
}

/**
 * The hooks connections offer, so Auto Heal can act at once. They are a fast path only:
 * what heal acts on is the committed row, and heal's own poll finds anything a crash
 * between the commit and the hook left behind.
 */
@Injectable()
export class ConnectionEvents {
  private readonly log = new Logger('ConnectionEvents');
  private readonly listeners: ConnectionListener[] = [];

  subscribe(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  /** Tells every listener; answers the incident id the first one that knows it gave. */
  async broken(row: ConnectionRow): Promise<string | undefined> {
    let incidentId: string | undefined;
    await this.each(async (l) => {
      incidentId ??= (await l.broken?.(row)) ?? undefined;
    });
    return incidentId;
  }

  async connected(row: ConnectionRow, how: 'connect' | 'resync' | 'import'): Promise<void> {
    await this.each((l) => l.connected?.(row, how));
  }

  async recovered(row: ConnectionRow): Promise<void> {
    await this.each((l) => l.recovered?.(row));
  }

  async revoked(row: ConnectionRow): Promise<void> {
    await this.each((l) => l.revoked?.(row));
  }

  private async each(fn: (l: ConnectionListener) => Promise<void> | undefined): Promise<void> {
    for (const l of this.listeners) {
      try {
        await fn(l);
      } catch (error) {
        this.log.error(`a connection listener failed: ${(error as Error).message}`);
      }
    }
  }
}
