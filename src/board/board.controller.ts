import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiClientsService } from '../api-clients/api-clients.service';
import { Public } from '../common/auth';
import { UUID } from '../common/strings';
import { AppConfig } from '../config/app-config';
import { ConnectLinksService } from '../connections/connect/connect-links.service';
import { ConnectionsService } from '../connections/connections.service';
import { ClientHealth } from '../connections/refresh/client-health';
import { incidentViews } from '../heal/incidents.controller';
import { IncidentsRepository } from '../heal/incidents.repository';
import { BotSenders } from '../platforms/bot-registry';
import { OAuthProviders } from '../platforms/oauth-registry';
import { ProviderFailure } from '../platforms/platform';
import { catalogOf } from '../platforms/scope-catalog';
import { TenantsService } from '../tenants/tenants.service';
import { DeliveriesRepository } from '../webhooks/delivery/deliveries.repository';
import { WebhookEndpointsService } from '../webhooks/webhook-endpoints.service';
import { Html, html, page } from './board-html';
import { connectionBody, incidentBody, incidentsBody, overviewBody, signInBody, tenantsBody, webhooksBody } from './board-pages';
import { BoardQueries } from './board-queries';
import { BoardSession, BoardSessions, csrfMatches, SESSION_COOKIE } from './board-sessions';

const LOGIN_CSRF_COOKIE = 'autoheal_board_login';
const PAGE = 50;
/** An incident page lists this many of its users (a storm's incident holds thousands); the count is of all. */
const AFFECTED_SHOWN = 200;
type Form = Record<string, string | undefined>;

/**
 * The admin board (SPEC §12) under /board: server-rendered pages, no script. Routes are public
 * to the API-key guard and authenticate by the session cookie themselves; every POST checks the
 * session's CSRF token first and changes nothing without it. A session sees exactly its key's
 * tenants, through the same scoped services the API uses.
 */
@ApiExcludeController()
@Controller('board')
@Public()
export class BoardController {
  constructor(
    private readonly sessions: BoardSessions,
    private readonly queries: BoardQueries,
    private readonly apiClients: ApiClientsService,
    private readonly incidents: IncidentsRepository,
    private readonly connections: ConnectionsService,
    private readonly links: ConnectLinksService,
    private readonly tenants: TenantsService,
    private readonly endpoints: WebhookEndpointsService,
    private readonly deliveries: DeliveriesRepository,
    private readonly providers: OAuthProviders,
    private readonly bots: BotSenders,
    private readonly clients: ClientHealth,
    private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  private get secure(): boolean {
    return this.config.publicBaseUrl.startsWith('https:');
  }

  @Get('sign-in')
  signInPage(@Res() reply: FastifyReply): void {
    const token = randomBytes(24).toString('base64url');
    reply.setCookie(LOGIN_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/board/', secure: this.secure, maxAge: 600 });
    send(reply, 200, page({ title: 'Sign in' }, signInBody(token)));
  }

  @Post('sign-in')
  async signIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = (request.body ?? {}) as Form;
    const expected = cookie(request, LOGIN_CSRF_COOKIE);
    if (!expected || form._csrf !== expected) return send(reply, 403, page({ title: 'Sign in' }, signInBody(expected ?? '', 'The form expired. Sign in again.')));
    const caller = form.key && form.key.length <= 512 ? await this.apiClients.authenticate(form.key) : undefined;
    if (!caller || caller.role !== 'admin') return send(reply, 401, page({ title: 'Sign in' }, signInBody(expected, 'That is not a live admin API key.')));
    const session = await this.sessions.create(caller.clientId);
    reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/board/' });
    reply.setCookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', path: '/board', secure: this.secure, expires: session.expiresAt });
    reply.redirect('/board', 303);
  }

  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = await this.posted(request, reply);
    if (!session) return;
    await this.sessions.end(cookie(request, SESSION_COOKIE));
    reply.clearCookie(SESSION_COOKIE, { path: '/board' }).redirect('/board/sign-in', 303);
  }

  @Get()
  async overview(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    const overview = await this.queries.overview(session.caller);
    const clients = Object.fromEntries(this.providers.all().map((p) => [p.platform, p.enabled ? this.clients.state(p.platform) : 'disabled']));
    this.render(reply, session, 'Overview', overviewBody(overview, clients));
  }

  @Get('incidents')
  async incidentList(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('status') status?: string, @Query('cursor') cursor?: string): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    const wanted = status === 'open' || status === 'resolved' ? status : undefined;
    const after = cursor && UUID.test(cursor) ? cursor : undefined;
    const rows = await this.incidents.list({ status: wanted, afterId: after, limit: PAGE + 1 }, session.caller.tenantIds ?? 'all');
    const items = await incidentViews(this.incidents, rows.slice(0, PAGE));
    this.render(reply, session, 'Incidents', incidentsBody(items, wanted, rows.length > PAGE ? items[items.length - 1].id : undefined));
  }

  @Get('incidents/:id')
  async incident(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    const row = UUID.test(id) ? await this.incidents.find(id, session.caller.tenantIds ?? 'all') : undefined;
    if (!row) return this.notFound(reply, session);
    const [view] = await incidentViews(this.incidents, [row]);
    const users = await this.queries.affected(session.caller, view.connectionIds, AFFECTED_SHOWN);
    this.render(reply, session, `Incident: ${view.condition}`, incidentBody(view, users));
  }

  @Get('connections/:id')
  async connection(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    await this.connectionPage(reply, session, id);
  }

  @Post('connections/:id/resync-link')
  async resyncLink(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    const session = await this.posted(request, reply);
    if (!session) return;
    const c = UUID.test(id) ? await this.connections.get(session.caller, id).catch(() => undefined) : undefined;
    if (!c) return this.notFound(reply, session);
    const issued = await this.links.create(session.caller, { platform: c.platform, tenantExternalId: c.tenantExternalId, userExternalId: c.userExternalId });
    await this.connectionPage(reply, session, id, issued);
  }

  @Get('tenants')
  async tenantList(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('cursor') cursor?: string): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    await this.tenantsPage(reply, session, undefined, cursor && UUID.test(cursor) ? cursor : undefined);
  }

  @Post('tenants/:id/test-dm')
  async testDm(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    const session = await this.posted(request, reply);
    if (!session) return;
    const tenant = UUID.test(id) ? await this.tenants.find(session.caller, id).catch(() => undefined) : undefined;
    const admin = tenant?.admins.find((a) => a.userExternalId === (request.body as Form).admin);
    if (!tenant || !admin) return this.notFound(reply, session);
    const sender = this.bots.get(tenant.platform);
    let notice: { ok: boolean; text: string };
    if (!sender?.enabled) {
      notice = { ok: false, text: `No ${tenant.platform} bot is configured on this service: admins of ${tenant.name} cannot be told anything by DM.` };
    } else {
      try {
        await sender.send(
          { serviceUrl: tenant.bot.serviceUrl, accountId: tenant.bot.accountId, botToken: this.tenants.botToken(tenant) },
          { userExternalId: admin.userExternalId, tenantExternalId: tenant.externalId, email: admin.email },
          { title: 'Auto Heal test message', lines: ['This is a test from the Auto Heal board: the bot can reach you. No action is needed.'] },
        );
        notice = { ok: true, text: `Test DM sent to ${admin.displayName ?? admin.userExternalId}.` };
      } catch (error) {
        const why = error instanceof ProviderFailure ? error.message : 'the platform did not accept it';
        notice = { ok: false, text: `The test DM to ${admin.displayName ?? admin.userExternalId} failed: ${why}.` };
      }
    }
    await this.tenantsPage(reply, session, notice);
  }

  @Get('webhooks')
  async webhooks(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = await this.session(request, reply);
    if (!session) return;
    const { items } = await this.endpoints.list(session.caller, { limit: PAGE });
    const withDeliveries = await Promise.all(items.map(async (e) => ({ ...e, deliveries: await this.deliveries.list(e.id, { limit: 10 }) })));
    this.render(reply, session, 'Webhooks', webhooksBody(withDeliveries));
  }

  private async connectionPage(reply: FastifyReply, session: BoardSession, id: string, issued?: { url: string; expiresAt: string }): Promise<void> {
    const c = UUID.test(id) ? await this.connections.get(session.caller, id).catch(() => undefined) : undefined;
    if (!c) return this.notFound(reply, session);
    const [audit, prompts] = await Promise.all([this.connections.auditTrail(session.caller, id, { limit: 100 }), this.queries.promptsOf(session.caller, id, 50)]);
    // The audit trail and the prompts of its incidents, as one timeline, newest first.
    const trail = {
      items: [
        ...audit.items,
        ...prompts.map((p) => ({ at: p.at.toISOString(), actor: `bot → ${p.recipient}`, action: `prompt.${p.kind} (${p.condition})`, outcome: p.status })),
      ].sort((a, b) => b.at.localeCompare(a.at)),
    };
    const actors = [...new Set(trail.items.map((e) => e.actor))].filter((a) => UUID.test(a));
    const names = actors.length ? await this.db.query<{ id: string; name: string }[]>(`SELECT id::text, name FROM api_clients WHERE id = ANY($1::uuid[])`, [actors]) : [];
    const provider = this.providers.find(c.platform);
    const required = provider ? catalogOf(provider.scopes).requiredScopes : [];
    const keyNames = Object.fromEntries(names.map((n) => [n.id, `key "${n.name}"`]));
    this.render(reply, session, `Connection of ${c.userExternalId}`, connectionBody(c, required, trail.items, keyNames, session.csrfToken, issued));
  }

  private async tenantsPage(reply: FastifyReply, session: BoardSession, notice?: { ok: boolean; text: string }, after?: string): Promise<void> {
    const rows = await this.queries.tenants(session.caller, PAGE + 1, after);
    const shown = rows.slice(0, PAGE);
    this.render(reply, session, 'Tenants', tenantsBody(shown, session.csrfToken, notice, rows.length > PAGE ? shown[shown.length - 1].id : undefined));
  }

  /** The session of a page request; without one, a redirect to the sign-in page. */
  private async session(request: FastifyRequest, reply: FastifyReply): Promise<BoardSession | undefined> {
    const session = await this.sessions.find(cookie(request, SESSION_COOKIE));
    if (!session) reply.header('Cache-Control', 'no-store').redirect('/board/sign-in', 303);
    return session;
  }

  /** The session of a form POST whose CSRF token matches; else 403 (or sign-in), and nothing done. */
  private async posted(request: FastifyRequest, reply: FastifyReply): Promise<BoardSession | undefined> {
    const session = await this.session(request, reply);
    if (!session) return undefined;
    if (!csrfMatches(session, (request.body as Form | undefined)?._csrf)) {
      this.render(
        reply,
        session,
        'Refused',
        html`<p class="bad" role="alert">This form was not sent from a board page of this session (no valid CSRF token). Nothing was done.</p>`,
        403,
      );
      return undefined;
    }
    return session;
  }

  private notFound(reply: FastifyReply, session: BoardSession): void {
    this.render(reply, session, 'Not found', html`<p>There is nothing here that this key may see.</p>`, 404);
  }

  private render(reply: FastifyReply, session: BoardSession, title: string, body: Html, status = 200): void {
    send(
      reply,
      status,
      page(
        { title, session: { keyLabel: session.caller.tenantIds === null ? 'every tenant' : `${session.caller.tenantIds.length} tenant(s)`, csrfToken: session.csrfToken } },
        body,
      ),
    );
  }
}

/** Cookies are parsed where they are read (the app registers @fastify/cookie without its hook: the token read pays nothing). */
function cookie(request: FastifyRequest, name: string): string | undefined {
  return request.server.parseCookie(request.headers.cookie ?? '')[name];
}

function send(reply: FastifyReply, status: number, body: string): void {
  reply.status(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}
