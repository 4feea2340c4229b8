import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Caller, Public, Roles } from '../../common/auth';
import { CurrentCaller } from '../../common/caller.decorator';
import { AppError, ProblemCode } from '../../common/problem';
import { escapeHtml, htmlPage } from '../../common/html';
import { AppConfig } from '../../config/app-config';
import { OAuthProviders } from '../../platforms/oauth-registry';
import { catalogOf } from '../../platforms/scope-catalog';
import { ConnectLinkView, CreateConnectLinkDto } from './connect-links.dto';
import { ConnectLinksService } from './connect-links.service';
import { NONCE_COOKIE_PATH } from './oauth-browser-binding';
import { linkProblemPage, OAuthFlowService, Page } from './oauth-flow.service';

function sendPage(reply: FastifyReply, page: Page, extraHtml = ''): void {
  const link = page.link ? `<p><a href="${escapeHtml(page.link.url)}">${escapeHtml(page.link.label)}</a></p>` : '';
  reply
    .status(page.status)
    .header('Cache-Control', 'no-store')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'")
    .header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(htmlPage(page.title, page.lines, link + extraHtml));
}

@ApiTags('connect')
@Controller()
export class ConnectController {
  constructor(
    private readonly links: ConnectLinksService,
    private readonly flow: OAuthFlowService,
    private readonly config: AppConfig,
    private readonly providers: OAuthProviders,
  ) {}

  /** Read per request: tests (and the docs) set PUBLIC_BASE_URL after the app is built. */
  private get secureCookies(): boolean {
    return this.config.publicBaseUrl.startsWith('https:');
  }

  @Post('v1/connect-links')
  @Roles('relay', 'admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'A signed, expiring, single-use link that starts OAuth for a person' })
  @ApiCreatedResponse({ type: ConnectLinkView })
  create(@CurrentCaller() caller: Caller, @Body() body: CreateConnectLinkDto): Promise<ConnectLinkView> {
    return this.links.create(caller, body);
  }

  /**
   * Says what will happen, with one button. GET (and the HEAD Fastify derives from it) never
   * consume or change anything: mail and chat link scanners open links.
   */
  @Get('connect/:token')
  @Public()
  @ApiOperation({ summary: 'The page behind a connect link (HTML)' })
  async page(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const checked = await this.links.check(token);
    if ('problem' in checked) return sendPage(reply, linkProblemPage(checked.problem));
    const { link } = checked;
    const provider = this.providers.get(link.platform);
    const name = provider.displayName;
    const { requiredScopes, reasons } = catalogOf(provider.scopes);
    const scopes = requiredScopes.map((scope) => `<li><code>${escapeHtml(scope)}</code>: ${escapeHtml(reasons[scope] ?? 'Needed by the relay.')}</li>`).join('\n');
    const form = `<form method="post" action="/connect/${escapeHtml(token)}"><button type="submit">Continue to ${escapeHtml(name)}</button></form>`;
    sendPage(
      reply,
      {
        status: 200,
        title: link.purpose === 'resync' ? `Reconnect your ${name} account` : `Connect your ${name} account`,
        lines: [
          ...(link.userExternalId ? [`This link is for the ${name} user ${link.userExternalId}. Sign in as that person.`] : []),
          `Messages between your chat platforms are relayed on your behalf. To ${link.purpose === 'resync' ? 'restore that' : 'allow that'}, sign in to ${name} and approve the access it asks for.`,
        ],
      },
      `<h2>What ${escapeHtml(name)} will ask you to allow</h2>\n<ul class="scopes">\n${scopes}\n</ul>\n<p>The button takes you to the sign-in page. Nothing happens until you press it.</p>\n${form}`,
    );
  }

  @Post('connect/:token')
  @Public()
  @HttpCode(302)
  @ApiOperation({ summary: "The page's button: redirects (302) to the platform's consent screen" })
  async start(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const started = await this.flow.start(token);
    if ('page' in started) return sendPage(reply, started.page);
    const { name, value, maxAgeSeconds } = started.cookie;
    // SameSite=Lax: the provider's redirect back is a top-level GET, so the cookie comes along.
    reply.setCookie(name, value, { httpOnly: true, sameSite: 'lax', path: NONCE_COOKIE_PATH, secure: this.secureCookies, maxAge: maxAgeSeconds });
    reply.header('Cache-Control', 'no-store').redirect(started.redirect, 302);
  }

  @Get('oauth/:platform/callback')
  @Public()
  @ApiOperation({ summary: 'OAuth redirect URI: code exchange, then a success or error page (HTML)' })
  async callback(
    @Param('platform') platform: string,
    @Query() query: Record<string, string | undefined>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!this.providers.has(platform)) throw new AppError(ProblemCode.NotFound, 'No such platform.');
    const { page, clearCookie } = await this.flow.callback(platform, query, request.server.parseCookie(request.headers.cookie ?? ''));
    if (clearCookie) reply.clearCookie(clearCookie, { httpOnly: true, sameSite: 'lax', path: NONCE_COOKIE_PATH, secure: this.secureCookies });
    sendPage(reply, page);
  }
}
