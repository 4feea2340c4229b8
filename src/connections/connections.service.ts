import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { Caller, canSeeTenant } from '../common/auth';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import type { Platform } from '../config/app-config';
import { OAuthProviders } from '../platforms/oauth-registry';
import type { Identity, TokenSet } from '../platforms/platform';
import { TenantEntity } from '../tenants/tenant.entity';
import { isUniqueViolation } from '../tenants/tenants.service';
import { Secret } from '../vault/secret';
import { AuditLog } from './audit/audit-log';
import { ConnectionEvents } from './connection-events';
import { ConnectionState } from './connection-state';
import type { ConnectionRow } from './connection.types';
import { AuditListView, AuditQuery, ConnectionListView, ConnectionView, ImportConnectionDto, ListConnectionsQuery } from './connections.dto';
import { ConnectionsRepository } from './connections.repository';
import { nextRefreshAt } from './refresh/schedule';
import { ScopeDrift } from './refresh/scope-drift';
import { TokenSealer } from './token-sealer';
import { TokenService } from './tokens/token.service';

export function toConnectionView(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    platform: row.platform,
    tenantId: row.tenantId,
    tenantExternalId: row.tenantExternalId,
    userExternalId: row.userExternalId,
    status: row.status,
    scopes: row.scopes,
    accessTokenExpiresAt: row.accessTokenExpiresAt?.toISOString() ?? null,
    ...(row.refreshTokenExpiresAt ? { refreshTokenExpiresAt: row.refreshTokenExpiresAt.toISOString() } : {}),
    nextRefreshAt: row.nextRefreshAt?.toISOString() ?? null,
    ...(row.lastRefreshAt ? { lastRefreshAt: row.lastRefreshAt.toISOString() } : {}),
    ...(row.lastError ? { lastError: row.lastError } : {}),
    ...(row.incidentId ? { incidentId: row.incidentId } : {}),
  };
}

const cursorOf = (id: string) => Buffer.from(id).toString('base64url');
function idOfCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!UUID.test(id)) throw new AppError(ProblemCode.ValidationFailed, 'cursor is not a cursor this service returned', { errors: [{ field: 'cursor', message: 'is invalid' }] });
  return id;
}

/** Connections: look-up, import, the result of an OAuth flow, and revocation. */
@Injectable()
export class ConnectionsService {
  private readonly log = new Logger('ConnectionsService');

  constructor(
    private readonly repo: ConnectionsRepository,
    private readonly state: ConnectionState,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly sealer: TokenSealer,
    private readonly providers: OAuthProviders,
    private readonly tokens: TokenService,
    private readonly audit: AuditLog,
    private readonly events: ConnectionEvents,
    private readonly drift: ScopeDrift,
  ) {}

  async list(caller: Caller, query: ListConnectionsQuery): Promise<ConnectionListView> {
    const limit = query.limit ?? 100;
    const naturalKey = query.platform && query.tenantExternalId && query.userExternalId;
    const rows = await this.repo.list({ ...query, afterId: query.cursor ? idOfCursor(query.cursor) : undefined, limit: naturalKey ? 1 : limit + 1 }, caller.tenantIds ?? 'all');
    const more = !naturalKey && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toConnectionView);
    return { items, ...(more ? { nextCursor: cursorOf(items[items.length - 1].id) } : {}) };
  }

  async get(caller: Caller, id: string): Promise<ConnectionView> {
    const row = UUID.test(id) ? await this.repo.findById(id, caller.tenantIds ?? 'all') : undefined;
    if (!row) throw new AppError(ProblemCode.NotFound, 'No such connection.');
    return toConnectionView(row);
  }

  /** Who read or refreshed the connection, newest first; the caller's tenant scope applies. */
  async auditTrail(caller: Caller, id: string, query: AuditQuery): Promise<AuditListView> {
    await this.get(caller, id);
    const limit = query.limit ?? 100;
    const before = query.cursor === undefined ? undefined : Buffer.from(query.cursor, 'base64url').toString();
    if (before !== undefined && !/^\d{1,18}$/.test(before)) {
      throw new AppError(ProblemCode.ValidationFailed, 'cursor is not a cursor this service returned', { errors: [{ field: 'cursor', message: 'is invalid' }] });
    }
    const rows = await this.audit.read(id, limit + 1, before);
    const page = rows.slice(0, limit);
    const items = page.map((e) => ({ at: e.at.toISOString(), actor: e.actor, action: e.action, outcome: e.outcome, ...(e.detail ? { detail: e.detail } : {}) }));
    return { items, ...(rows.length > limit ? { nextCursor: Buffer.from(page[page.length - 1].id).toString('base64url') } : {}) };
  }

  /** Migration: stores existing tokens. Never refreshes by itself; the sweep does when due. */
  async import(caller: Caller, body: ImportConnectionDto): Promise<{ created: boolean; view: ConnectionView }> {
    const tenant = await this.tenants.findOne({ where: { platform: body.platform, externalId: body.tenantExternalId } });
    if (!tenant || !canSeeTenant(caller, tenant.id)) {
      throw new AppError(ProblemCode.Unprocessable, `No ${body.platform} tenant with externalId "${body.tenantExternalId}": create it with POST /v1/tenants first.`);
    }
    const expiresAt = new Date(body.expiresAt);
    const tokens: TokenSet = {
      accessToken: new Secret(body.accessToken),
      refreshToken: new Secret(body.refreshToken),
      accessTokenExpiresAt: expiresAt,
      refreshTokenExpiresAt: body.refreshTokenExpiresAt ? new Date(body.refreshTokenExpiresAt) : undefined,
      scopes: [...new Set(body.scopes)],
      scopesStated: true,
      tokenType: 'Bearer',
    };
    const result = await this.store(tenant, { userExternalId: body.userExternalId, tenantExternalId: body.tenantExternalId }, tokens);
    if (!result) throw new AppError(ProblemCode.Conflict, 'The connection changed meanwhile; retry.');
    this.audit.record({ actor: caller.clientId, connectionId: result.row.id, tenantId: tenant.id, action: 'connection.import', outcome: result.created ? 'created' : 'replaced' });
    await this.events.connected(result.row, 'import');
    const checked = await this.drift.check(result.row);
    return { created: result.created, view: toConnectionView(checked) };
  }

  /**
   * Stores a user's tokens under the natural key: a new connection, or the same one
   * (same id) with its tokens replaced and made active again.
   */
  async store(
    tenant: TenantEntity,
    identity: Identity,
    tokens: TokenSet,
    /** Runs first in the same transaction; false aborts (e.g. the link was used meanwhile). */
    guard?: (m: EntityManager) => Promise<boolean>,
  ): Promise<{ created: boolean; row: ConnectionRow } | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.repo.db.transaction(async (m) => {
          if (guard && !(await guard(m))) return undefined;
          const existing = await this.repo.findByNaturalKey(tenant.platform, identity.tenantExternalId, identity.userExternalId, 'all', m, true);
          const id = existing?.id ?? randomUUID();
          const write = this.sealer.seal(id, tokens, nextRefreshAt(new Date(), tokens.accessTokenExpiresAt));
          if (existing) return { created: false, row: await this.state.reconnect(m, id, write) };
          const row = await this.state.create(m, {
            id,
            tenantId: tenant.id,
            platform: tenant.platform,
            tenantExternalId: identity.tenantExternalId,
            userExternalId: identity.userExternalId,
            ...write,
          });
          return { created: true, row };
        });
        if (result) this.tokens.forget(result.row.id);
        return result;
      } catch (error) {
        // Two first connects of one user at once: the loser finds the winner's row.
        if (attempt === 0 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  /** Revokes upstream where the platform allows, then crypto-shreds and marks `revoked`. */
  async revoke(caller: Caller, id: string): Promise<ConnectionView> {
    const scope = caller.tenantIds ?? 'all';
    const row = UUID.test(id) ? await this.repo.findById(id, scope) : undefined;
    if (!row) throw new AppError(ProblemCode.NotFound, 'No such connection.');
    if (row.status === 'revoked') return toConnectionView(row);
    await this.revokeUpstream(row.platform, row).catch((e: unknown) => this.log.warn(`upstream revoke of ${row.id} failed: ${(e as Error).message}; shredding anyway`));
    const revoked = (await this.state.revoke(id, scope)) ?? (await this.repo.findById(id, scope));
    this.tokens.forget(id);
    this.audit.record({ actor: caller.clientId, connectionId: id, tenantId: row.tenantId, action: 'connection.revoke', outcome: 'revoked' });
    if (!revoked) throw new AppError(ProblemCode.NotFound, 'No such connection.');
    await this.events.revoked(revoked);
    return toConnectionView(revoked);
  }

  private async revokeUpstream(platform: Platform, row: ConnectionRow): Promise<void> {
    const provider = this.providers.all().find((p) => p.platform === platform && p.enabled);
    if (!provider) return;
    await provider.revoke({ accessToken: this.sealer.openAccess(row), refreshToken: this.sealer.openRefresh(row) });
  }
}
