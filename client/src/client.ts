import type { WebhookEvent } from './events.js';
import { ClientOptions, segment, Transport } from './http.js';
import { Events } from './poller.js';
import { Tokens, withToken, WithTokenOptions } from './tokens.js';
import type { AccessToken, Connection, ConnectionFilter, ConnectionKey, ConnectLink, ConnectLinkRequest, Page } from './types.js';
import { verifyWebhook, VerifyOptions, WebhookHeaders } from './webhooks.js';

/** `GET /v1/connections`: list and look-up; never a token. */
export class Connections {
  constructor(private readonly http: Transport) {}

  list(filter: ConnectionFilter = {}): Promise<Page<Connection>> {
    return this.http.request<Page<Connection>>('GET', '/v1/connections', { query: { ...filter } });
  }

  /** The connection of a person on a platform, or undefined when there is none (in this key's scope). */
  async find(key: ConnectionKey): Promise<Connection | undefined> {
    const page = await this.list({ platform: key.platform, tenantExternalId: key.tenantExternalId, userExternalId: key.userExternalId });
    return page.items[0];
  }

  /** Throws an `AutoHealError` with status 404 when it does not exist or lies outside the key's scope. */
  get(connectionId: string): Promise<Connection> {
    return this.http.request<Connection>('GET', `/v1/connections/${segment(connectionId)}`);
  }
}

/** `POST /v1/connect-links`: a signed, expiring link that connects (or re-connects) a person. */
export class ConnectLinks {
  constructor(private readonly http: Transport) {}

  create(request: ConnectLinkRequest): Promise<ConnectLink> {
    return this.http.request<ConnectLink>('POST', '/v1/connect-links', { body: request });
  }
}

/** Webhook verification with the client's clock (the same as the standalone `verifyWebhook`). */
export class Webhooks {
  constructor(private readonly now: () => number) {}

  verify(body: string | Uint8Array, headers: WebhookHeaders, secret: string | readonly string[], options: VerifyOptions = {}): WebhookEvent {
    return verifyWebhook(body, headers, secret, { now: this.now, ...options });
  }
}

/**
 * What a relay needs of the Auto Heal service. One instance per process (and API key): its
 * token cache and in-flight calls are shared by every caller of that instance.
 */
export class AutoHealClient {
  readonly tokens: Tokens;
  readonly connections: Connections;
  readonly connectLinks: ConnectLinks;
  readonly events: Events;
  readonly webhooks: Webhooks;

  constructor(options: ClientOptions & { maxCachedTokens?: number }) {
    const http = new Transport(options);
    this.tokens = new Tokens(http, options.maxCachedTokens);
    this.connections = new Connections(http);
    this.connectLinks = new ConnectLinks(http);
    this.events = new Events(http);
    this.webhooks = new Webhooks(http.now);
  }

  /**
   * Calls `fn` with a token of the connection; when `fn` reports the platform's 401 (see
   * `isUnauthorized`), invalidates once and calls it once more with the fresh token.
   */
  withToken<T>(connectionId: string, fn: (token: AccessToken) => Promise<T> | T, options?: WithTokenOptions): Promise<T> {
    return withToken(this.tokens, connectionId, fn, options);
  }
}
