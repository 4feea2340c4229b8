import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { Caller, canSeeTenant } from '../common/auth';
import { AppError, FieldError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { AppConfig, BuiltinPlatform, Platform } from '../config/app-config';
import { OAuthProviders } from '../platforms/oauth-registry';
import { checkServiceUrl, ServiceUrlPolicy, serviceUrlPolicy } from '../platforms/microsoft/service-url';
import { Secret } from '../vault/secret';
import { Vault } from '../vault/vault';
import { TenantEntity } from './tenant.entity';
import { CreateTenantDto, TenantBotDto, TenantView, UpdateTenantDto } from './tenants.dto';

/** Which bot settings each platform takes (SPEC §5); a generic provider has no bot, so none. */
const BOT_KEYS: Readonly<Record<BuiltinPlatform, readonly (keyof TenantBotDto)[]>> = {
  microsoft: ['serviceUrl'],
  slack: ['botToken'],
  webex: [],
  zoom: ['accountId'],
};

/**
 * The bot settings a platform takes, and where they may point: a Teams `serviceUrl` must be
 * a Bot Framework host (the bot's token goes there), and a Zoom `accountId` must be the
 * tenant's own account (the chatbot may DM only that account's people). SPEC §8.
 */
function checkBot(platform: Platform, externalId: string, bot: TenantBotDto | undefined, serviceUrls: ServiceUrlPolicy): void {
  if (!bot) return;
  const allowed = BOT_KEYS[platform as BuiltinPlatform] ?? [];
  const errors: FieldError[] = (Object.keys(bot) as (keyof TenantBotDto)[])
    .filter((key) => bot[key] !== undefined && !allowed.includes(key))
    .map((key) => ({ field: `bot.${key}`, message: `is not a ${platform} bot setting (allowed: ${allowed.join(', ') || 'none'})` }));
  if (platform === 'microsoft' && bot.serviceUrl !== undefined) {
    const check = checkServiceUrl(serviceUrls, bot.serviceUrl);
    if (!check.allowed) errors.push({ field: 'bot.serviceUrl', message: `${check.reason}: it must be an https Bot Framework service URL (see MICROSOFT_BOT_SERVICE_HOSTS)` });
  }
  if (platform === 'zoom' && bot.accountId !== undefined && bot.accountId !== externalId) {
    errors.push({ field: 'bot.accountId', message: "must equal the tenant's externalId (the Zoom account id)" });
  }
  if (errors.length > 0) {
    throw new AppError(ProblemCode.ValidationFailed, errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
  }
}

export function toTenantView(t: TenantEntity): TenantView {
  return {
    id: t.id,
    platform: t.platform,
    externalId: t.externalId,
    name: t.name,
    admins: t.admins,
    bot: { ...t.bot, ...(t.platform === 'slack' ? { botTokenConfigured: t.botSecret !== null } : {}) },
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

@Injectable()
export class TenantsService {
  private readonly serviceUrls: ServiceUrlPolicy;

  constructor(
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly vault: Vault,
    config: AppConfig,
    private readonly providers: OAuthProviders,
  ) {
    this.serviceUrls = serviceUrlPolicy(config.microsoft.botServiceHosts, config.microsoft.botServiceUrl);
  }

  async create(caller: Caller, input: CreateTenantDto): Promise<TenantView> {
    if (caller.tenantIds !== null) throw new AppError(ProblemCode.Forbidden, 'Only an admin key scoped to every tenant ("*") can create tenants.');
    if (!this.providers.has(input.platform)) {
      const known = this.providers.all().map((p) => p.platform);
      throw new AppError(ProblemCode.ValidationFailed, `platform must be one of ${known.join(', ')}`, {
        errors: [{ field: 'platform', message: `must be one of ${known.join(', ')}` }],
      });
    }
    checkBot(input.platform, input.externalId, input.bot, this.serviceUrls);
    try {
      const tenant = this.tenants.create({
        id: randomUUID(),
        platform: input.platform,
        externalId: input.externalId,
        name: input.name,
        admins: input.admins.map(cleanAdmin),
      });
      this.setBot(tenant, input.bot);
      const saved = await this.tenants.save(tenant);
      return toTenantView(saved);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError(ProblemCode.Conflict, `A ${input.platform} tenant with externalId "${input.externalId}" already exists.`);
      }
      throw error;
    }
  }

  async get(caller: Caller, id: string): Promise<TenantView> {
    return toTenantView(await this.find(caller, id));
  }

  async update(caller: Caller, id: string, input: UpdateTenantDto): Promise<TenantView> {
    const tenant = await this.find(caller, id);
    checkBot(tenant.platform, tenant.externalId, input.bot, this.serviceUrls);
    if (input.name !== undefined) tenant.name = input.name;
    if (input.admins !== undefined) tenant.admins = input.admins.map(cleanAdmin);
    if (input.bot !== undefined) this.setBot(tenant, input.bot);
    return toTenantView(await this.tenants.save(tenant));
  }

  /** The tenant's Slack bot token, opened from the vault. */
  botToken(tenant: TenantEntity): Secret | undefined {
    return tenant.botSecret ? this.vault.open(tenant.botSecret, botTokenBinding(tenant.id)) : undefined;
  }

  /** Replaces the bot settings whole; a secret goes to the vault, bound to this tenant. */
  private setBot(tenant: TenantEntity, bot: TenantBotDto | undefined): void {
    tenant.bot = nonSecretBot(bot);
    tenant.botSecret = bot?.botToken ? this.vault.seal(new Secret(bot.botToken), botTokenBinding(tenant.id)) : null;
    tenant.vaultKeyId = tenant.botSecret ? this.vault.activeKeyId : null;
  }

  /** Reads a tenant the caller may see; anything else is a 404, never a 403. */
  async find(caller: Caller, id: string): Promise<TenantEntity> {
    const tenant = UUID.test(id) && canSeeTenant(caller, id) ? await this.tenants.findOne({ where: { id } }) : null;
    if (!tenant) throw new AppError(ProblemCode.NotFound, 'No such tenant.');
    return tenant;
  }
}

const botTokenBinding = (tenantId: string) => ({ owner: `tenant:${tenantId}`, purpose: 'bot_token' });

function cleanAdmin(a: { userExternalId: string; email?: string; displayName?: string }) {
  return { userExternalId: a.userExternalId, ...(a.email ? { email: a.email } : {}), ...(a.displayName ? { displayName: a.displayName } : {}) };
}

function nonSecretBot(bot: TenantBotDto | undefined) {
  return { ...(bot?.serviceUrl ? { serviceUrl: bot.serviceUrl } : {}), ...(bot?.accountId ? { accountId: bot.accountId } : {}) };
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === '23505';
}
