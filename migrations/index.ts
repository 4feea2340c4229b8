import { Init1764000000000 } from './1764000000000-init';
import { Vault1764000000001 } from './1764000000001-vault';

/** Every migration, in order. Landed migrations are never edited; add new ones. */
export const MIGRATIONS = [Init1764000000000, Vault1764000000001];
