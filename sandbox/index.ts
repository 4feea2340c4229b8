/** Fake Microsoft, Teams Bot Framework, Slack, Webex and Zoom on 127.0.0.1, for tests, demo and benchmarks. */
import { controlHandler, SandboxControl } from './control';
import { SandboxServer, startServer } from './http';
import { createMicrosoft, microsoftMetadata, newMicrosoftIds } from './microsoft';
import { PlatformContext, PlatformModule, SandboxCredentials } from './platform';
import { createSlack, newSlackIds } from './slack';
import { PlatformState } from './state';
import { createTeamsConnector } from './teams';
import { SandboxPlatform } from './types';
import { createWebex, newWebexIds } from './webex';
import { createZoom, newZoomIds } from './zoom';

export * from './types';
export { SandboxControl } from './control';
export { microsoftError, slackError, oauthError, zoomOauthError, webexOauthError, webexApiError, zoomApiError, botConnectorError } from './errors';
export type { MicrosoftErrorOptions } from './errors';
export { microsoftMetadata } from './microsoft';

export interface Sandbox {
  env: Record<string, string>;
  control: SandboxControl;
  /** The server origins, one per platform (the Teams connector shares the Microsoft one). */
  urls: Record<SandboxPlatform, string>;
  close(): Promise<void>;
}

const DAY = 86_400;

/** Lifetimes the real platforms hand out by default. */
const DEFAULTS: Record<SandboxPlatform, { accessSeconds: number; refreshSeconds: number | undefined }> = {
  microsoft: { accessSeconds: 3599, refreshSeconds: 90 * DAY },
  slack: { accessSeconds: 43_200, refreshSeconds: undefined },
  webex: { accessSeconds: 14 * DAY, refreshSeconds: 90 * DAY },
  zoom: { accessSeconds: 3599, refreshSeconds: 90 * DAY },
};

export interface SandboxOptions {
  tokenLatencyMs?: number;
  /** Microsoft, Slack, Webex and Zoom listen on basePort..basePort+3; 0 (default) picks free ports. */
  basePort?: number;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const credentials: SandboxCredentials = { microsoft: newMicrosoftIds(), slack: newSlackIds(), webex: newWebexIds(), zoom: newZoomIds() };
  const latencyMs = options.tokenLatencyMs ?? 0;
  const states = {
    microsoft: new PlatformState('microsoft', { ...DEFAULTS.microsoft, latencyMs }),
    slack: new PlatformState('slack', { ...DEFAULTS.slack, latencyMs }),
    webex: new PlatformState('webex', { ...DEFAULTS.webex, latencyMs }),
    zoom: new PlatformState('zoom', { ...DEFAULTS.zoom, latencyMs }),
  };
  const origins: Partial<Record<SandboxPlatform, string>> = {};
  const context = (platform: SandboxPlatform): PlatformContext => ({
    state: states[platform],
    credentials,
    origin: () => origins[platform] ?? 'http://127.0.0.1',
  });
  const modules: Record<SandboxPlatform, PlatformModule> = {
    microsoft: createMicrosoft(context('microsoft')),
    slack: createSlack(context('slack')),
    webex: createWebex(context('webex')),
    zoom: createZoom(context('zoom')),
  };
  const control = new SandboxControl(states, modules);
  const controlRoutes = controlHandler(control);
  const teams = createTeamsConnector(context('microsoft'));
  const platforms: SandboxPlatform[] = ['microsoft', 'slack', 'webex', 'zoom'];
  const servers: SandboxServer[] = await Promise.all(
    platforms.map((p, i) => {
      const handlers = p === 'microsoft' ? [controlRoutes, modules[p].handler, teams] : [controlRoutes, modules[p].handler];
      return startServer(handlers, options.basePort ? options.basePort + i : 0);
    }),
  );
  platforms.forEach((p, i) => (origins[p] = servers[i].url));
  const urls = { microsoft: servers[0].url, slack: servers[1].url, webex: servers[2].url, zoom: servers[3].url };

  const env: Record<string, string> = {
    MICROSOFT_CLIENT_ID: credentials.microsoft.clientId,
    MICROSOFT_CLIENT_SECRET: credentials.microsoft.clientSecret,
    MICROSOFT_AUTHORITY_HOST: urls.microsoft,
    MICROSOFT_BOT_APP_ID: credentials.microsoft.botAppId,
    MICROSOFT_BOT_APP_SECRET: credentials.microsoft.botAppSecret,
    MICROSOFT_BOT_SERVICE_URL: `${urls.microsoft}/`,
    SLACK_CLIENT_ID: credentials.slack.clientId,
    SLACK_CLIENT_SECRET: credentials.slack.clientSecret,
    SLACK_API_URL: `${urls.slack}/api/`,
    SLACK_AUTHORIZE_URL: `${urls.slack}/oauth/v2/authorize`,
    WEBEX_CLIENT_ID: credentials.webex.clientId,
    WEBEX_CLIENT_SECRET: credentials.webex.clientSecret,
    WEBEX_API_URL: `${urls.webex}/v1`,
    WEBEX_BOT_TOKEN: credentials.webex.botToken,
    ZOOM_CLIENT_ID: credentials.zoom.clientId,
    ZOOM_CLIENT_SECRET: credentials.zoom.clientSecret,
    ZOOM_OAUTH_URL: urls.zoom,
    ZOOM_API_URL: `${urls.zoom}/v2`,
    ZOOM_BOT_JID: credentials.zoom.botJid,
  };
  return {
    env,
    control,
    urls,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/**
 * The msal-node `auth` settings that reach a plain-http authority host: MSAL insists on an
 * https authority, so we name it https, mark the host known and hand it the real http endpoints.
 */
export function msalAuthOptions(authorityHost: string, tenant: string): { authority: string; knownAuthorities: string[]; authorityMetadata: string } {
  const url = new URL(authorityHost);
  return {
    authority: `https://${url.host}/${tenant}`,
    knownAuthorities: [url.host],
    authorityMetadata: JSON.stringify(microsoftMetadata(url.origin, tenant)),
  };
}
