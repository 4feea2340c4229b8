import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Caller, Role } from '../common/auth';
import { idOfCursor, pageOf } from '../common/cursor';
import { parseOrigin } from '../common/origins';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { TenantEntity } from '../tenants/tenant.entity';
import { resolveTenantScope } from '../tenants/tenant-scope';
import { ApiClientEntity } from './api-client.entity';
import { ApiClientRow, ApiClientsRepository } from './api-clients.repository';
import { apiKeyDigest, generateApiKey, hashApiKey, sameHash } from './api-key';

/**
 * How long a verified key is trusted without asking the database. A key revoked on another
 * replica stops working there within this time; on this replica, at once.
 */
const CACHE_MS = 10_000;
const CACHE_MAX = 10_000;
/** `lastUsedAt` is written when a key is verified against the database, at most this often. */
const TOUCH_MS = 60_000;

/** Keyed by the key's SHA-256 (base64): finding it proves the key, and no key is kept in memory. */
interface Cached {
  caller: Caller;
  until: number;
}

export interface ApiClientInput {
  name: string;
  role: Role;
  tenantIds: string[];
  returnOrigins?: string[];
}

export interface ApiClientView {
  id: string;
  name: string;
  role: Role;
  tenantIds: string[];
  returnOrigins: string[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

function toView(row: ApiClientRow): ApiClientView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    tenantIds: row.tenantIds ?? ['*'],
    returnOrigins: row.returnOrigins,
    createdAt: row.createdAt.toISOString(),
    ...(row.lastUsedAt ? { lastUsedAt: row.lastUsedAt.toISOString() } : {}),
    ...(row.revokedAt ? { revokedAt: row.revokedAt.toISOString() } : {}),
  };
}

const notFound = () => new AppError(ProblemCode.NotFound, 'No such API client.');

@Injectable()
export class ApiClientsService {
  private readonly log = new Logger(ApiClientsService.name);
  private readonly cache = new Map<string, Cached>();

  constructor(
    @InjectRepository(ApiClientEntity) private readonly clients: Repository<ApiClientEntity>,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly scoped: ApiClientsRepository,
    private readonly config: AppConfig,
  ) {}

  /** A new key, inside the caller's scope (SPEC §5: a key can only hand out what it holds). */
  async create(caller: Caller, input: ApiClientInput): Promise<ApiClientView & { apiKey: string }> {
    const tenantIds = await resolveTenantScope(caller, input.tenantIds, this.tenants, 'grant');
    const returnOrigins = normaliseOrigins(input.returnOrigins ?? []);
    const apiKey = generateApiKey();
    const saved = await this.clients.save(this.clients.create({ name: input.name, role: input.role, tenantIds, returnOrigins, keyHash: hashApiKey(apiKey) }));
    return { ...toView({ ...saved, lastUsedAt: null, revokedAt: null }), apiKey };
  }

  /** Keys whose scope lies inside the caller's, in id order. */
  async list(caller: Caller, query: { cursor?: string; limit?: number }): Promise<{ items: ApiClientView[]; nextCursor?: string }> {
    const limit = query.limit ?? 100;
    const rows = await this.scoped.list(caller.tenantIds, query.cursor === undefined ? undefined : idOfCursor(query.cursor), limit + 1);
    return pageOf(rows, limit, toView);
  }

  /** Revokes a key inside the caller's scope; any other key reads as unknown (404). */
  async revoke(caller: Caller, id: string): Promise<void> {
    if (!UUID.test(id)) throw notFound();
    if (!(await this.scoped.revoke(id, caller.tenantIds))) throw notFound();
    for (const [key, entry] of this.cache) if (entry.caller.clientId === id) this.cache.delete(key);
  }

  /** Resolves a bearer key to its caller, or undefined when it is unknown or revoked. */
  async authenticate(apiKey: string): Promise<Caller | undefined> {
    const digest = apiKeyDigest(apiKey);
    const now = Date.now();
    const hit = this.cache.get(digest);
    if (hit && hit.until > now) return hit.caller;
    const hash = Buffer.from(digest, 'base64');

    const row = await this.clients.findOne({ where: { keyHash: hash, revokedAt: IsNull() } });
    if (!row || !sameHash(row.keyHash, hash)) {
      this.cache.delete(digest);
      return undefined;
    }
    // Only here, on a cache miss, so cached token reads never write; fire-and-forget because a
    // lost stamp costs nothing and a request must not wait for it.
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= TOUCH_MS) {
      this.scoped.touch(row.id).catch((err: unknown) => this.log.warn(`Could not record the last use of API client ${row.id}: ${String(err)}`));
    }
    const caller: Caller = { clientId: row.id, role: row.role, tenantIds: row.tenantIds, returnOrigins: row.returnOrigins };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(digest, { caller, until: now + CACHE_MS });
    return caller;
  }

  /**
   * Makes sure an admin key exists: `ADMIN_API_KEY` is installed as the bootstrap key; on the
   * embedded default without it, a key is generated once and printed once. Returns the
   * generated key, if any. A bootstrap key revoked through the API stays revoked while
   * `ADMIN_API_KEY` keeps its value (SPEC §5); a new value is a fresh, live key.
   */
  async bootstrap(): Promise<string | undefined> {
    const existing = await this.clients.findOne({ where: { bootstrap: true } });
    if (this.config.adminApiKey) {
      const keyHash = hashApiKey(this.config.adminApiKey);
      if (!existing) {
        await this.clients.save(this.clients.create({ name: 'bootstrap admin', role: 'admin', tenantIds: null, keyHash, bootstrap: true }));
      } else if (!sameHash(existing.keyHash, keyHash)) {
        await this.clients.update({ id: existing.id }, { keyHash, role: 'admin', tenantIds: null, returnOrigins: [], createdAt: new Date(), lastUsedAt: null, revokedAt: null });
      } else if (existing.revokedAt) {
        this.log.warn('The bootstrap admin key (ADMIN_API_KEY) was revoked through the API and stays revoked; set a new ADMIN_API_KEY to install a fresh one.');
      }
      return undefined;
    }
    if (existing) return undefined;
    if (!this.config.embeddedDatabase) {
      this.log.warn('ADMIN_API_KEY is not set and no admin key exists yet: set it to manage the service.');
      return undefined;
    }
    const apiKey = generateApiKey();
    await this.clients.save(this.clients.create({ name: 'bootstrap admin', role: 'admin', tenantIds: null, keyHash: hashApiKey(apiKey), bootstrap: true }));
    return apiKey;
  }
}

/** Each origin as `URL.origin`, without repeats; the DTO has vetted them, this keeps the service honest on its own. */
function normaliseOrigins(values: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const value of values) {
    const parsed = parseOrigin(value);
    if ('problem' in parsed) {
      throw new AppError(ProblemCode.ValidationFailed, `returnOrigins: ${parsed.problem}`, { errors: [{ field: 'returnOrigins', message: parsed.problem }] });
    }
    origins.add(parsed.origin);
  }
  return [...origins];
}
