import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { Caller, canSeeTenant } from '../../common/auth';
import { parseReturnUrl } from '../../common/origins';
import { AppError, ProblemCode } from '../../common/problem';
import { AppConfig, Platform } from '../../config/app-config';
import { OAuthProviders } from '../../platforms/oauth-registry';
import { TenantEntity } from '../../tenants/tenant.entity';
import { ConnectLinksRepository, LinkRow } from './connect-links.repository';

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
export const newToken = () => randomBytes(32).toString('base64url');

export interface LinkRequest {
  platform: Platform;
  tenantExternalId: string;
  userExternalId?: string;
  returnUrl?: string;
}

/**
 * SPEC §5: the success page's Continue link goes only where the creating key was allowed to
 * send people (its `returnOrigins`), so a relay key cannot turn our page into an open redirect.
 * Stored as WHATWG URL serialises it: what was checked is what the page links to.
 */
function allowedReturnUrl(caller: Caller, value: string): string {
  const parsed = parseReturnUrl(value, caller.returnOrigins ?? []);
  if ('problem' in parsed) {
    throw new AppError(ProblemCode.Unprocessable, `returnUrl ${parsed.problem}.`, { errors: [{ field: 'returnUrl', message: parsed.problem }] });
  }
  return parsed.url;
}

/** Why a link cannot be used, for the page shown to the person who opened it. */
export type LinkProblem = 'unknown' | 'expired' | 'used' | 'void';

/** Connect links: random, stored hashed, expiring, single use (SPEC §1, §5). */
@Injectable()
export class ConnectLinksService {
  constructor(
    private readonly repo: ConnectLinksRepository,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly providers: OAuthProviders,
    private readonly config: AppConfig,
  ) {}

  async create(caller: Caller, request: LinkRequest): Promise<{ url: string; expiresAt: string }> {
    const tenant = await this.tenants.findOne({ where: { platform: request.platform, externalId: request.tenantExternalId } });
    if (!tenant || !canSeeTenant(caller, tenant.id)) {
      throw new AppError(ProblemCode.Unprocessable, `No ${request.platform} tenant with externalId "${request.tenantExternalId}" that this key may use.`);
    }
    this.providers.get(request.platform);
    const returnUrl = request.returnUrl === undefined ? null : allowedReturnUrl(caller, request.returnUrl);
    return this.issue({ tenant, userExternalId: request.userExternalId ?? null, returnUrl, purpose: 'connect', createdBy: caller.clientId });
  }

  /** A re-sync link for one user's connection, made by Auto Heal for a user prompt. */
  async createResync(tenant: TenantEntity, connectionId: string, userExternalId: string, incidentId: string, m?: EntityManager) {
    return this.issue({ tenant, userExternalId, returnUrl: null, purpose: 'resync', connectionId, incidentId, createdBy: null }, m);
  }

  /** A link that can still start OAuth, or why not. Reading never changes anything. */
  async check(token: string): Promise<{ link: LinkRow } | { problem: LinkProblem }> {
    const link = /^[A-Za-z0-9_-]{43}$/.test(token) ? await this.repo.findLinkByHash(sha256(token)) : undefined;
    if (!link) return { problem: 'unknown' };
    return this.usable(link);
  }

  usable(link: LinkRow): { link: LinkRow } | { problem: LinkProblem } {
    if (link.usedAt) return { problem: 'used' };
    if (link.voidedAt) return { problem: 'void' };
    if (link.expiresAt.getTime() <= Date.now()) return { problem: 'expired' };
    return { link };
  }

  private async issue(
    p: {
      tenant: TenantEntity;
      userExternalId: string | null;
      returnUrl: string | null;
      purpose: 'connect' | 'resync';
      connectionId?: string;
      incidentId?: string;
      createdBy: string | null;
    },
    m?: EntityManager,
  ) {
    const token = newToken();
    const expiresAt = new Date(Date.now() + this.config.connectLinkTtlMs);
    await this.repo.insertLink(
      {
        tokenHash: sha256(token),
        tenantId: p.tenant.id,
        platform: p.tenant.platform,
        tenantExternalId: p.tenant.externalId,
        userExternalId: p.userExternalId,
        returnUrl: p.returnUrl,
        purpose: p.purpose,
        connectionId: p.connectionId ?? null,
        incidentId: p.incidentId ?? null,
        createdBy: p.createdBy,
        expiresAt,
      },
      m,
    );
    return { url: `${this.config.publicBaseUrl}/connect/${token}`, expiresAt: expiresAt.toISOString() };
  }
}
