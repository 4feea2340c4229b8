import type { AppConfig } from '../../config/app-config';
import { OAuth2Provider } from '../oauth2-provider';
import type { ProviderDescription } from '../provider-description';
import { ZOOM_SCOPES } from './zoom-scopes';
import { ZOOM_SIGNALS } from './zoom-signals';

/**
 * Zoom user-level OAuth as data (SPEC §13), from developers.zoom.us "OAuth with Zoom": client
 * authentication by HTTP Basic, PKCE (S256), refresh tokens rotate on every refresh (the old one
 * dies at once, so the new one is stored before anything else), revocation at `/oauth/revoke`
 * with the access token ends the whole authorization ("Invalid Token!" there: already gone).
 * Token errors are `{reason, error}`, REST errors `{code, message}`; `reason` is Zoom's specific
 * signal. Identity: `GET /users/me` (`id`, `account_id`). No refresh idle lifetime is assumed:
 * Zoom's own pages disagree (15 years, or 90 days).
 */
export function zoomDescription(config: AppConfig): ProviderDescription {
  const oauth = config.zoom.oauthUrl;
  return {
    name: 'zoom',
    clientId: config.zoom.clientId,
    clientSecret: config.zoom.clientSecret,
    endpoints: { authorizeUrl: `${oauth}/oauth/authorize`, tokenUrl: `${oauth}/oauth/token`, revocationUrl: `${oauth}/oauth/revoke` },
    clientAuth: 'client_secret_basic',
    pkce: true,
    scopeSeparator: ' ',
    scopesEchoed: true,
    rotatesRefreshToken: true,
    identity: { from: 'userinfo', url: `${config.zoom.apiUrl}/users/me`, user: 'id', tenant: 'account_id', name: 'display_name', email: 'email' },
    failureCodeFields: ['reason', 'code'],
    revokeWith: 'access_token',
    revokeGoneCodes: ['Invalid Token!'],
    defaultTokenType: 'bearer',
    scopes: ZOOM_SCOPES,
    signals: ZOOM_SIGNALS,
    prompts: 'bot',
  };
}

export const zoomOAuth = (config: AppConfig, options: { timeoutMs?: number } = {}) => new OAuth2Provider(zoomDescription(config), { displayName: 'Zoom', ...options });
