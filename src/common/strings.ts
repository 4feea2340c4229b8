/** Strings in the API never carry NUL: PostgreSQL rejects it in text and it hides in logs. */
// eslint-disable-next-line no-control-regex -- NUL is the character this pattern is about.
export const NO_NUL = /^[^\u0000]*$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
