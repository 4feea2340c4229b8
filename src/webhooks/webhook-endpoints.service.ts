import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { Caller } from '../common/auth';
import { idOfCursor, pageOf } from '../common/cursor';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { AppConfig } from '../config/app-config';
import { TenantEntity } from '../tenants/tenant.entity';
import { resolveTenantScope } from '../tenants/tenant-scope';
import { Secret } from '../vault/secret';
import { Vault } from '../vault/vault';
import { checkWebhookUrl } from './url-guard';
import { EndpointChange, EndpointRow, WebhookEndpointsRepository } from './webhook-endpoints.repository';

/** After rotate-secret the previous secret keeps signing this long (SPEC §11). */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

export interface EndpointInput {
  url: string;
  events: string[];
  tenantIds?: string[];
  description?: string;
}

export interface EndpointUpdate {
  url?: string;
  events?: string[];
  tenantIds?: string[];
  /** null clears it */
  description?: string | null;
  disabled?: boolean;
}

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  tenantIds: string[];
  description: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

const binding = (id: string) => ({ owner: `webhook_endpoint:${id}`, purpose: 'signing_secret' });
const previousBinding = (id: string) => ({ owner: `webhook_endpoint:${id}`, purpose: 'previous_signing_secret' });
const notFound = () => new AppError(ProblemCode.NotFound, 'No such webhook endpoint.');
const newSecret = () => new Secret(`whsec_${randomBytes(32).toString('base64')}`);

function toView(row: EndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    tenantIds: row.tenantIds ?? ['*'],
    description: row.description,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** SPEC §11 endpoint subscriptions, each inside the caller's scope (others read as 404). */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    private readonly repo: WebhookEndpointsRepository,
    private readonly vault: Vault,
    private readonly config: AppConfig,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
  ) {}

  async create(caller: Caller, input: EndpointInput): Promise<EndpointView & { secret: string }> {
    const tenantIds = await this.resolveScope(caller, input.tenantIds);
    const url = await this.vetUrl(input.url);
    const id = randomUUID();
    const secret = newSecret();
    const row = await this.repo.insert({
      id,
      url,
      events: normaliseEvents(input.events),
      tenantIds,
      description: input.description ?? null,
      createdBy: caller.clientId,
      secret: this.vault.seal(secret, binding(id)),
      vaultKeyId: this.vault.activeKeyId,
    });
    return { ...toView(row), secret: secret.reveal() };
  }

  async list(caller: Caller, query: { cursor?: string; limit?: number }): Promise<{ items: EndpointView[]; nextCursor?: string }> {
    const limit = query.limit ?? 100;
    const rows = await this.repo.list(caller.tenantIds, query.cursor === undefined ? undefined : idOfCursor(query.cursor), limit + 1);
    return pageOf(rows, limit, toView);
  }

  async get(caller: Caller, id: string): Promise<EndpointView> {
    const row = UUID.test(id) ? await this.repo.find(id, caller.tenantIds) : undefined;
    if (!row) throw notFound();
    return toView(row);
  }

  async update(caller: Caller, id: string, input: EndpointUpdate): Promise<EndpointView> {
    await this.get(caller, id); // 404 before anything about the body is revealed
    const change: EndpointChange = {
      ...(input.url !== undefined ? { url: await this.vetUrl(input.url) } : {}),
      ...(input.events !== undefined ? { events: normaliseEvents(input.events) } : {}),
      ...(input.tenantIds !== undefined ? { tenantIds: await this.resolveScope(caller, input.tenantIds) } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
    };
    const row = await this.repo.update(id, caller.tenantIds, change);
    if (!row) throw notFound();
    return toView(row);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    if (!UUID.test(id) || !(await this.repo.delete(id, caller.tenantIds))) throw notFound();
  }

  /** A new secret, shown once; the current one keeps signing for 24 h (one previous secret at most). */
  async rotateSecret(caller: Caller, id: string): Promise<{ secret: string; previousSecretExpiresAt: string }> {
    if (!UUID.test(id)) throw notFound();
    const secret = newSecret();
    const until = new Date(Date.now() + SECRET_OVERLAP_MS);
    const rotated = await this.repo.rotate(id, caller.tenantIds, SECRET_OVERLAP_MS, (current) => ({
      secret: this.vault.seal(secret, binding(id)),
      previous: this.vault.seal(this.vault.open(current, binding(id)), previousBinding(id)),
      vaultKeyId: this.vault.activeKeyId,
    }));
    if (!rotated) throw notFound();
    return { secret: secret.reveal(), previousSecretExpiresAt: until.toISOString() };
  }

  /** The secrets that sign deliveries to an endpoint now, newest first (for the delivery worker). */
  async signingSecrets(id: string, now = new Date()): Promise<Secret[]> {
    const row = await this.repo.secrets(id);
    if (!row) return [];
    const live = [this.vault.open(row.secret, binding(id))];
    if (row.previousSecret && row.previousSecretUntil && row.previousSecretUntil > now) live.push(this.vault.open(row.previousSecret, previousBinding(id)));
    return live;
  }

  private async vetUrl(raw: string): Promise<string> {
    const verdict = await checkWebhookUrl(raw, { allowPrivate: this.config.webhookAllowPrivateUrls });
    if (!verdict.ok) throw new AppError(ProblemCode.ValidationFailed, `url ${verdict.problem}`, { errors: [{ field: 'url', message: verdict.problem }] });
    return verdict.url.href;
  }

  /**
   * Absent: the caller's own tenants (every tenant for a `*` key). `["*"]` only from a `*` key;
   * otherwise a subset of the caller's tenants, each existing (as API keys, SPEC §5).
   */
  private resolveScope(caller: Caller, tenantIds: string[] | undefined): Promise<string[] | null> {
    if (tenantIds === undefined) return Promise.resolve(caller.tenantIds === null ? null : [...caller.tenantIds]);
    return resolveTenantScope(caller, tenantIds, this.tenants, 'subscribe to');
  }
}

/** `["*"]` or the distinct types, in the order given (the DTO has vetted each). */
function normaliseEvents(events: string[]): string[] {
  if (events.includes('*')) {
    if (events.length !== 1) throw fieldError('events', '"*" must be the only entry');
    return ['*'];
  }
  return [...new Set(events)];
}

function fieldError(field: string, message: string): AppError {
  return new AppError(ProblemCode.ValidationFailed, `${field}: ${message}`, { errors: [{ field, message }] });
}
