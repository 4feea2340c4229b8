import { AppError, ProblemCode } from './problem';
import { UUID } from './strings';

/**
 * The `nextCursor` of lists paged by uuid (SPEC §5): the last id of the page, base64url,
 * the same encoding connections and incidents answer with.
 */
export const cursorOf = (id: string) => Buffer.from(id).toString('base64url');

/** The id a cursor stands for; 400 naming `cursor` when it is not one this service made. */
export function idOfCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!UUID.test(id)) throw new AppError(ProblemCode.ValidationFailed, 'cursor is not a cursor this service returned', { errors: [{ field: 'cursor', message: 'is invalid' }] });
  return id;
}

/**
 * One page of a list read with `limit + 1` rows in id order: the first `limit` as views, and a
 * `nextCursor` when the extra row shows there is more.
 */
export function pageOf<R extends { id: string }, V>(rows: readonly R[], limit: number, view: (row: R) => V): { items: V[]; nextCursor?: string } {
  const page = rows.slice(0, limit);
  return { items: page.map(view), ...(rows.length > limit ? { nextCursor: cursorOf(page[page.length - 1].id) } : {}) };
}
