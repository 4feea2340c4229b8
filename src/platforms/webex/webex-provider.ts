import type { AppConfig } from '../../config/app-config';
import { OAuth2Provider } from '../oauth2-provider';
import type { ProviderDescription } from '../provider-description';
import { WEBEX_SCOPES } from './webex-scopes';
import { WEBEX_SIGNALS } from './webex-signals';

/**
 * Webex integrations as data (SPEC §13), from developer.webex.com "Integrations": authorize at
 * `/authorize`, tokens at `/access_token` with id and secret in the form body, PKCE (S256). The
 * token answers carry no `scope` and no `token_type`, and every one states the refresh token's
 * remaining lifetime (`refresh_token_expires_in`), which tells an inactive grant from a revoked
 * one. The refresh token comes back unchanged. There is no endpoint for an integration to revoke a
 * user's grant: the user removes it in Webex. Identity: `GET /people/me` (`id`, `orgId`).
 */
export function webexDescription(config: AppConfig): ProviderDescription {
  const api = config.webex.apiUrl;
  return {
    name: 'webex',
    clientId: config.webex.clientId,
    clientSecret: config.webex.clientSecret,
    endpoints: { authorizeUrl: `${api}/authorize`, tokenUrl: `${api}/access_token` },
    clientAuth: 'client_secret_post',
    pkce: true,
    scopeSeparator: ' ',
    scopesEchoed: false,
    rotatesRefreshToken: false,
    identity: { from: 'userinfo', url: `${api}/people/me`, user: 'id', tenant: 'orgId', name: 'displayName', email: 'emails.0' },
    failureCodeFields: [],
    defaultTokenType: 'Bearer',
    scopes: WEBEX_SCOPES,
    signals: WEBEX_SIGNALS,
    prompts: 'bot',
  };
}

export const webexOAuth = (config: AppConfig, options: { timeoutMs?: number } = {}) => new OAuth2Provider(webexDescription(config), { displayName: 'Webex', ...options });
