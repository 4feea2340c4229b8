/**
 * Every table that stores vault ciphertexts. Each has `id uuid`, the listed `bytea`
 * columns, and `vault_key_id` (the key all of the row's ciphertexts use, indexed), which
 * lets readiness list the key ids in use and rotation find what is left to move without
 * reading ciphertexts. A feature that stores a secret adds its table here.
 */
export interface SealedTable {
  table: string;
  /** The binding owner is `<owner>:<row id>`. */
  owner: string;
  columns: readonly { column: string; purpose: string }[];
}

export const SEALED_TABLES: readonly SealedTable[] = [
  { table: 'tenants', owner: 'tenant', columns: [{ column: 'bot_secret', purpose: 'bot_token' }] },
  {
    table: 'connections',
    owner: 'connection',
    columns: [
      { column: 'access_token', purpose: 'access_token' },
      { column: 'refresh_token', purpose: 'refresh_token' },
    ],
  },
  { table: 'oauth_states', owner: 'oauth_state', columns: [{ column: 'code_verifier', purpose: 'pkce_verifier' }] },
  {
    table: 'webhook_endpoints',
    owner: 'webhook_endpoint',
    columns: [
      { column: 'secret', purpose: 'signing_secret' },
      { column: 'previous_secret', purpose: 'previous_signing_secret' },
    ],
  },
];
