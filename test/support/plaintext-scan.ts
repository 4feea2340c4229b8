import { Client } from 'pg';

/**
 * Every row of every table in the public schema, as text (bytea as its raw bytes decoded
 * as latin1), searched for each needle. Returns `table.column` of each hit.
 */
export async function findPlaintext(databaseUrl: string, needles: string[]): Promise<string[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const cols = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const hits: string[] = [];
    for (const c of cols.rows) {
      const rows = await db.query(`SELECT ${c.column_name}::text AS v, ${c.data_type === 'bytea' ? `${c.column_name}` : 'NULL'} AS raw FROM ${c.table_name}`);
      for (const r of rows.rows) {
        const text = `${r.v ?? ''}${Buffer.isBuffer(r.raw) ? r.raw.toString('latin1') : ''}`;
        if (needles.some((n) => text.includes(n))) hits.push(`${c.table_name}.${c.column_name}`);
      }
    }
    return [...new Set(hits)];
  } finally {
    await db.end();
  }
}
