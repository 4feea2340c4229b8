import { GroupCommit, matchedById } from '../../common/group-commit';
import type { ConnectionRow } from '../connection.types';
import type { ConnectionState, RefreshCommit } from '../connection-state';

/** Statements in flight at once; more commits wait and go together in the next one. */
const MAX_IN_FLIGHT = 2;
/** Rows per statement at most. */
const MAX_GROUP = 100;

/**
 * Group commit of refresh results (GroupCommit). A commit that arrives while MAX_IN_FLIGHT
 * statements are running waits and joins the next one, so a lone token call still commits at
 * once (no timer) while a sweep at hundreds of refreshes a second sends them by the dozen: one
 * statement per row cost more CPU, in the driver and in PostgreSQL, than the refresh around it.
 * Every row keeps its own fence; a failed statement fails each of its commits, which the
 * refresher retries.
 */
export class RefreshCommits {
  private readonly group: GroupCommit<RefreshCommit, ConnectionRow | undefined>;

  constructor(state: ConnectionState, owner: string) {
    this.group = new GroupCommit(
      matchedById((commits: RefreshCommit[]) => state.commitRefreshes(owner, commits)),
      MAX_IN_FLIGHT,
      MAX_GROUP,
    );
  }

  /** The committed row, or undefined when the fence was lost (a newer write exists). */
  commit(commit: RefreshCommit): Promise<ConnectionRow | undefined> {
    return this.group.add(commit);
  }
}
