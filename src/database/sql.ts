/** Anything that runs SQL: a DataSource, an EntityManager or a QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Runs a statement and returns its rows. TypeORM's postgres driver answers UPDATE and
 * DELETE with `[rows, rowCount]` but SELECT and INSERT with `rows`; this evens that out so
 * `UPDATE … RETURNING` reads like any query.
 */
export async function queryRows<T = Record<string, unknown>>(db: Queryable, sql: string, params?: unknown[]): Promise<T[]> {
  const result = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
