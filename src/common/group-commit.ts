interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. An item that arrives while `maxInFlight` writes are running waits and goes with
 * the next one, so a lone item is written at once (no timer) while hundreds a second go by the
 * dozen: one statement (or transaction) per item cost more, in the driver, in round trips and
 * in PostgreSQL, than the work around it. `write` answers one result per item, in order, and
 * keeps each item's own fences; a failed write fails each of its items.
 */
export class GroupCommit<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<readonly R[]>,
    private readonly maxInFlight = 2,
    private readonly maxGroup = 100,
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.maxGroup);
      this.inFlight++;
      // Called inside a promise, so even a write that throws at once fails its group, not the caller.
      void new Promise<readonly R[]>((resolve) => resolve(this.write(group.map((w) => w.item))))
        .then(
          (results) => group.forEach((w, i) => w.resolve(results[i])),
          (error: unknown) => group.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.next();
        });
    }
  }
}

/** A group's write that answers the rows it wrote, matched back to its items by id (undefined: that item lost its fence). */
export function matchedById<T extends { id: string }, R extends { id: string }>(write: (items: T[]) => Promise<readonly R[]>): (items: T[]) => Promise<(R | undefined)[]> {
  return async (items) => {
    const byId = new Map((await write(items)).map((r) => [r.id, r]));
    return items.map((i) => byId.get(i.id));
  };
}
