import type { ConnectionRow } from '../connection.types';
import type { ConnectionState, RefreshCommit } from '../connection-state';

/** Statements in flight at once; more commits wait and go together in the next one. */
const MAX_IN_FLIGHT = 2;
/** Rows per statement at most. */
const MAX_GROUP = 100;

interface Waiting {
  commit: RefreshCommit;
  resolve: (row: ConnectionRow | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of refresh results. A commit that arrives while MAX_IN_FLIGHT statements are
 * running waits and joins the next one, so a lone token call still commits at once (no
 * timer) while a sweep at hundreds of refreshes a second sends them by the dozen: one
 * statement per row cost more CPU, in the driver and in PostgreSQL, than the refresh around it.
 * Every row keeps its own fence; a failed statement fails each of its commits, which the
 * refresher retries.
 */
export class RefreshCommits {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly state: ConnectionState,
    private readonly owner: string,
  ) {}

  /** The committed row, or undefined when the fence was lost (a newer write exists). */
  commit(commit: RefreshCommit): Promise<ConnectionRow | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ commit, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      this.inFlight++;
      void this.state
        .commitRefreshes(
          this.owner,
          group.map((w) => w.commit),
        )
        .then(
          (rows) => {
            const byId = new Map(rows.map((r) => [r.id, r]));
            for (const w of group) w.resolve(byId.get(w.commit.id));
          },
          (error: unknown) => {
            for (const w of group) w.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.next();
        });
    }
  }
}
