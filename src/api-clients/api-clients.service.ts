import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Caller, Role } from '../common/auth';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { TenantEntity } from '../tenants/tenant.entity';
import { ApiClientEntity } from './api-client.entity';
import { apiKeyDigest, generateApiKey, hashApiKey, sameHash } from './api-key';

/**
 * How long a verified key is trusted without asking the database. A key revoked on another
 * replica stops working there within this time; on this replica, at once.
 */
const CACHE_MS = 10_000;
const CACHE_MAX = 10_000;

/** Keyed by the key's SHA-256 (base64): finding it proves the key, and no key is kept in memory. */
interface Cached {
  caller: Caller;
  until: number;
}

@Injectable()
export class ApiClientsService {
  private readonly log = new Logger(ApiClientsService.name);
  private readonly cache = new Map<string, Cached>();

  constructor(
    @InjectRepository(ApiClientEntity) private readonly clients: Repository<ApiClientEntity>,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly config: AppConfig,
  ) {}

  async create(input: { name: string; role: Role; tenantIds: string[] }) {
    const tenantIds = await this.resolveScope(input.tenantIds);
    const apiKey = generateApiKey();
    const saved = await this.clients.save(
      this.clients.create({ name: input.name, role: input.role, tenantIds, keyHash: hashApiKey(apiKey) }),
    );
    return {
      id: saved.id,
      apiKey,
      name: saved.name,
      role: saved.role,
      tenantIds: saved.tenantIds ?? ['*'],
      createdAt: saved.createdAt.toISOString(),
    };
  }

  async revoke(id: string): Promise<void> {
    if (!UUID.test(id)) throw new AppError(ProblemCode.NotFound, 'No such API client.');
    const result = await this.clients.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (!result.affected) throw new AppError(ProblemCode.NotFound, 'No such API client.');
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
    const caller: Caller = { clientId: row.id, role: row.role, tenantIds: row.tenantIds };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(digest, { caller, until: now + CACHE_MS });
    return caller;
  }

  /**
   * Makes sure an admin key exists: `ADMIN_API_KEY` is installed as the bootstrap key
   * (replacing an earlier one); on the embedded default without it, a key is generated
   * once and printed once. Returns the generated key, if any.
   */
  async bootstrap(): Promise<string | undefined> {
    const existing = await this.clients.findOne({ where: { bootstrap: true } });
    if (this.config.adminApiKey) {
      const keyHash = hashApiKey(this.config.adminApiKey);
      if (existing) await this.clients.update({ id: existing.id }, { keyHash, revokedAt: null });
      else await this.clients.save(this.clients.create({ name: 'bootstrap admin', role: 'admin', tenantIds: null, keyHash, bootstrap: true }));
      return undefined;
    }
    if (existing) return undefined;
    if (!this.config.embeddedDatabase) {
      this.log.warn('ADMIN_API_KEY is not set and no admin key exists yet: set it to manage the service.');
      return undefined;
    }
    const apiKey = generateApiKey();
    await this.clients.save(
      this.clients.create({ name: 'bootstrap admin', role: 'admin', tenantIds: null, keyHash: hashApiKey(apiKey), bootstrap: true }),
    );
    return apiKey;
  }

  private async resolveScope(tenantIds: string[]): Promise<string[] | null> {
    if (tenantIds.length === 1 && tenantIds[0] === '*') return null;
    if (tenantIds.includes('*')) {
      throw new AppError(ProblemCode.ValidationFailed, 'tenantIds: "*" must be the only entry', {
        errors: [{ field: 'tenantIds', message: '"*" must be the only entry' }],
      });
    }
    const unique = [...new Set(tenantIds)];
    const malformed = unique.filter((id) => !UUID.test(id));
    const found = await this.tenants.find({ select: { id: true }, where: { id: In(unique.filter((id) => UUID.test(id))) } });
    const known = new Set(found.map((t) => t.id));
    const unknown = [...malformed, ...unique.filter((id) => UUID.test(id) && !known.has(id))];
    if (unknown.length > 0) {
      throw new AppError(ProblemCode.Unprocessable, `Unknown tenant ids: ${unknown.join(', ')}`, { unknownTenantIds: unknown });
    }
    return unique;
  }
}
