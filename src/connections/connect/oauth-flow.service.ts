import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AppConfig, Platform } from '../../config/app-config';
import { isTransient } from '../../platforms/classify';
import { OAuthProviders } from '../../platforms/oauth-registry';
import { ProviderFailure, TokenSet } from '../../platforms/platform';
import { TenantEntity } from '../../tenants/tenant.entity';
import { type SealedSecret, Secret } from '../../vault/secret';
import { Vault } from '../../vault/vault';
import { AuditLog } from '../audit/audit-log';
import { ConnectLinksRepository } from './connect-links.repository';
import { ConnectLinksService, LinkProblem, newToken, sha256 } from './connect-links.service';
import { ConnectionEvents } from '../connection-events';
import { ConnectionsService } from '../connections.service';
import { newBinding, NonceCookie, nonceCookieName, presentsNonce } from './oauth-browser-binding';
import { ScopeDrift } from '../refresh/scope-drift';

/** SPEC §5 / issue: state and the PKCE verifier live server-side for 10 minutes, single use. */
const STATE_TTL_MS = 10 * 60_000;
/** SPEC §5: a connect link holds at most this many pending states; a new one drops the oldest. */
export const MAX_PENDING_STATES = 5;
/** SPEC §5: a callback's `error` is shown only when it looks like an OAuth error code. */
const KNOWN_ERROR_CODE = /^[a-z_]{1,40}$/;

/** A page to show the person in the browser. */
export interface Page {
  status: number;
  title: string;
  lines: string[];
  link?: { label: string; url: string };
}

export const linkProblemPage = (problem: LinkProblem): Page =>
  problem === 'unknown'
    ? { status: 404, title: 'This link is not valid', lines: ['The link is incomplete or unknown. Ask for a new one.'] }
    : {
        status: 410,
        title: problem === 'used' ? 'This link was already used' : problem === 'expired' ? 'This link has expired' : 'This link is no longer needed',
        lines: ['Links work once and for a limited time. If you still need to connect, ask for a new link.'],
      };

const verifierBinding = (stateId: string) => ({ owner: `oauth_state:${stateId}`, purpose: 'pkce_verifier' });
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The browser side of connecting: link → consent screen → callback → stored connection. */
@Injectable()
export class OAuthFlowService {
  private readonly log = new Logger('OAuthFlow');

  constructor(
    private readonly links: ConnectLinksService,
    private readonly repo: ConnectLinksRepository,
    private readonly providers: OAuthProviders,
    private readonly connections: ConnectionsService,
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly vault: Vault,
    private readonly config: AppConfig,
    private readonly audit: AuditLog,
    private readonly events: ConnectionEvents,
    private readonly drift: ScopeDrift,
  ) {}

  redirectUri(platform: Platform): string {
    return `${this.config.publicBaseUrl}/oauth/${platform}/callback`;
  }

  /**
   * The form's POST: a fresh state, PKCE verifier and browser nonce, then the provider's consent
   * URL. The nonce cookie is for the caller to set on the redirect.
   */
  async start(token: string): Promise<{ redirect: string; cookie: NonceCookie } | { page: Page }> {
    const checked = await this.links.check(token);
    if ('problem' in checked) return { page: linkProblemPage(checked.problem) };
    const link = checked.link;
    const provider = this.providers.get(link.platform);
    try {
      await provider.ready?.();
    } catch (error) {
      this.log.warn(`${link.platform} is not reachable: ${error instanceof ProviderFailure ? error.message : 'unexpected error'}`);
      return { page: { status: 502, title: 'The platform is not answering', lines: ['The platform is not answering right now. Open your link again in a few minutes.'] } };
    }
    const state = newToken();
    const verifier = newToken() + newToken().slice(0, 21); // 64 characters, within RFC 7636's 43-128
    const id = randomUUID();
    const binding = newBinding(state, STATE_TTL_MS);
    await this.repo.insertState(
      {
        id,
        stateHash: sha256(state),
        nonceHash: binding.nonceHash,
        linkId: link.id,
        codeVerifier: this.vault.seal(new Secret(verifier), verifierBinding(id)),
        vaultKeyId: this.vault.activeKeyId,
        expiresAt: new Date(Date.now() + STATE_TTL_MS),
      },
      MAX_PENDING_STATES,
    );
    const redirect = provider.authorizeUrl({
      state,
      codeChallenge: challengeOf(verifier),
      redirectUri: this.redirectUri(link.platform),
      // Microsoft signs in to that Entra tenant; Slack pre-selects that workspace (`team`).
      tenantExternalId: link.platform === 'microsoft' || link.platform === 'slack' ? link.tenantExternalId : undefined,
      loginHint: link.userExternalId ?? undefined,
    });
    return { redirect, cookie: binding.cookie };
  }

  /**
   * The provider's redirect back. Every failure is a page and stores nothing. Until the browser
   * has shown the nonce cookie of the state, nothing is taken, exchanged or revoked: a consent
   * URL forwarded to someone else comes back here without it. `clearCookie` names the cookie
   * to delete once the state is used up.
   */
  async callback(
    platform: Platform,
    query: Record<string, string | undefined>,
    cookies: Readonly<Record<string, string | undefined>>,
  ): Promise<{ page: Page; clearCookie?: string }> {
    const state = query.state;
    const pending = state && state.length <= 128 ? await this.repo.findPendingState(sha256(state)) : undefined;
    if (!state || !pending) return { page: unknownState };
    if (!presentsNonce(cookies, state, pending.nonceHash)) return { page: otherBrowser };
    const taken = await this.repo.takeState(pending.id);
    if (!taken) return { page: unknownState };
    return { page: await this.complete(platform, query, taken), clearCookie: nonceCookieName(state) };
  }

  private async complete(platform: Platform, query: Record<string, string | undefined>, taken: { id: string; linkId: string; codeVerifier: SealedSecret }): Promise<Page> {
    const link = await this.repo.findLink(taken.linkId);
    if (!link || link.platform !== platform) return { status: 400, title: 'This sign-in cannot be completed', lines: ['The answer came back for another platform.'] };
    const usable = this.links.usable(link);
    if ('problem' in usable) return linkProblemPage(usable.problem);
    if (query.error !== undefined) {
      const declined = query.error === 'access_denied';
      // Free text (and error_description) could put an attacker's words on our page: codes only.
      const said = KNOWN_ERROR_CODE.test(query.error) ? `The platform answered with the error code "${query.error}".` : 'The platform reported an error.';
      return {
        status: declined ? 403 : 400,
        title: declined ? 'Nothing was connected' : 'The platform did not complete the sign-in',
        lines: [
          declined
            ? 'Consent was declined, so no access was granted. You can open the link again to retry.'
            : `${said} Nothing was connected. You can open the link again to retry.`,
        ],
      };
    }
    if (!query.code) return { status: 400, title: 'This sign-in cannot be completed', lines: ['The platform sent no authorization code.'] };

    const provider = this.providers.get(platform);
    const verifier = this.vault.open(taken.codeVerifier, verifierBinding(taken.id)).reveal();
    let result: { tokens: TokenSet; identity: { userExternalId: string; tenantExternalId: string } };
    try {
      result = await provider.exchangeCode({
        code: query.code,
        codeVerifier: verifier,
        redirectUri: this.redirectUri(platform),
        tenantExternalId: platform === 'microsoft' ? link.tenantExternalId : undefined,
      });
    } catch (error) {
      const detail = error instanceof ProviderFailure ? error.message : 'unexpected error';
      this.log.warn(`code exchange failed: ${detail}`);
      const transient = error instanceof ProviderFailure && isTransient(error.signals, provider.signals);
      return {
        status: transient ? 502 : 400,
        title: 'The platform did not complete the sign-in',
        lines: [transient ? 'The platform is not answering right now. Open your link again in a few minutes.' : 'The platform refused the sign-in. Open your link again to retry.'],
      };
    }
    const { identity, tokens } = result;
    if (identity.tenantExternalId !== link.tenantExternalId || (link.userExternalId && identity.userExternalId !== link.userExternalId)) {
      await provider.revoke({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }).catch(() => undefined);
      const otherTenant = identity.tenantExternalId !== link.tenantExternalId;
      return {
        status: 403,
        title: otherTenant ? 'You signed in to another organisation' : 'You signed in as a different person',
        lines: [
          otherTenant
            ? 'This link is for another organisation. Nothing was stored.'
            : 'This link was made for someone else. Nothing was stored. Sign out of the platform and open the link again as the right person.',
        ],
      };
    }
    const tenant = await this.tenants.findOne({ where: { id: link.tenantId } });
    if (!tenant) return { status: 410, title: 'This link is no longer needed', lines: ['The organisation was removed.'] };
    const stored = await this.connections.store(tenant, identity, tokens, (m) => this.repo.consumeLink(m, link.id));
    if (!stored) return linkProblemPage('used');
    this.audit.record({
      actor: 'oauth',
      connectionId: stored.row.id,
      tenantId: tenant.id,
      action: link.purpose === 'resync' ? 'connection.resync' : 'connection.connect',
      outcome: stored.created ? 'created' : 'replaced',
    });
    await this.events.connected(stored.row, link.purpose);
    await this.drift.check(stored.row);
    return {
      status: 200,
      title: 'Connected',
      lines: [`Your ${provider.displayName} account is connected. Messages will cross platforms again. You can close this window.`],
      ...(link.returnUrl ? { link: { label: 'Continue', url: link.returnUrl } } : {}),
    };
  }
}

const unknownState: Page = {
  status: 400,
  title: 'This sign-in cannot be completed',
  lines: ['The sign-in session is unknown, already used or older than 10 minutes. Open your link again.'],
};

const otherBrowser: Page = {
  status: 400,
  title: 'This sign-in cannot be completed in this browser',
  lines: [
    'A sign-in can only be finished in the browser where its link was opened. Nothing was connected, changed or removed.',
    'If you opened your link yourself, open it again in this browser. If someone sent you this sign-in page, you can ignore it.',
  ],
};
