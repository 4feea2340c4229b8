import type { Audience, ConnectionStatus, Platform } from './types.js';

/**
 * The events of SPEC §11 as `GET /v1/events` lists them and webhooks deliver them: one
 * discriminated union on `type`. `data.sequence` increases across the events of one
 * connection (order a connection's events by it; deliveries carry no order between them).
 */
interface EventOf<T extends string, D> {
  /** `evt_…`, unique; the `webhook-id` of its deliveries (dedupe on it: delivery is at least once). */
  id: string;
  type: T;
  createdAt: string;
  /** Null for events of the service's own OAuth clients (client.*), ping, and endpoints of all tenants. */
  tenantId: string | null;
  data: D & { sequence: number };
}

/** What every connection event tells of its connection. */
export interface ConnectionFacts {
  connectionId: string;
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string;
  status: ConnectionStatus;
  /** The condition a broken connection is in; also on events of a connection that still has one. */
  condition?: string;
}

export interface BrokenFacts {
  connectionId: string;
  platform: Platform;
  tenantExternalId: string;
  userExternalId: string;
  status: 'needs_reauth' | 'blocked';
  condition: string;
  audience: Audience;
  incidentId: string;
  /** For the user audience: a re-sync link of its own (single use) a relay can show in its own UI. */
  url?: string;
  urlExpiresAt?: string;
}

export interface IncidentFacts {
  incidentId: string;
  platform: Platform;
  condition: string;
  audience: Audience;
  status: 'open' | 'resolved';
  /** Set for a user incident (one connection); admin incidents span a tenant. */
  connectionId?: string;
  openedAt: string;
  resolvedAt?: string;
}

export interface PromptFailedFacts {
  promptId: string;
  incidentId: string;
  platform: Platform;
  condition: string;
  /** `initial`, `reminder` or `confirmation`. */
  kind: string;
  /** Who was not told: the user, or an admin (also for an admin's note about a user incident). */
  audience: Audience;
  recipientExternalId: string;
  /** Set for a user incident. */
  connectionId?: string;
  /** `no_bot` (no bot of the platform configured), `refused` (the platform refused the DM), `retries_exhausted`. */
  reason: 'no_bot' | 'refused' | 'retries_exhausted';
  /** The platform's error code when it gave one (`channel_not_found`, `http_403`…). */
  code: string | null;
  attempts: number;
}

export interface ClientMisconfiguredFacts {
  platform: Platform;
  /** The platform's error code (`invalid_client`, `7000215`…). */
  code: string;
  since: string;
}

export interface ClientRecoveredFacts {
  platform: Platform;
  misconfiguredSince: string;
}

export interface EndpointDisabledFacts {
  endpointId: string;
  failingSince: string;
  disabledAt: string;
}

export interface PingFacts {
  endpointId: string;
  sentBy: string;
}

export type ConnectionCreatedEvent = EventOf<'connection.created', ConnectionFacts>;
export type ConnectionBrokenEvent = EventOf<'connection.broken', BrokenFacts>;
/** The access token expired and refreshes keep failing transiently: no token until `connection.recovered`. */
export type ConnectionDegradedEvent = EventOf<'connection.degraded', ConnectionFacts & { degradedAt: string; accessTokenExpiresAt: string | null }>;
/** Back from degraded (a refresh or a re-connect worked). */
export type ConnectionRecoveredEvent = EventOf<'connection.recovered', ConnectionFacts & { degradedAt: string }>;
export type ConnectionHealedEvent = EventOf<'connection.healed', ConnectionFacts>;
export type ConnectionRevokedEvent = EventOf<'connection.revoked', ConnectionFacts>;
export type IncidentOpenedEvent = EventOf<'incident.opened', IncidentFacts>;
export type IncidentResolvedEvent = EventOf<'incident.resolved', IncidentFacts>;
export type PromptFailedEvent = EventOf<'prompt.failed', PromptFailedFacts>;
export type ClientMisconfiguredEvent = EventOf<'client.misconfigured', ClientMisconfiguredFacts>;
export type ClientRecoveredEvent = EventOf<'client.recovered', ClientRecoveredFacts>;
export type EndpointDisabledEvent = EventOf<'endpoint.disabled', EndpointDisabledFacts>;
/** Sent by `POST /v1/webhook-endpoints/{id}/test` to that endpoint alone; never in the event log. */
export type PingEvent = EventOf<'ping', PingFacts>;

/** An event of the log (`GET /v1/events`). */
export type AutoHealEvent =
  | ConnectionCreatedEvent
  | ConnectionBrokenEvent
  | ConnectionDegradedEvent
  | ConnectionRecoveredEvent
  | ConnectionHealedEvent
  | ConnectionRevokedEvent
  | IncidentOpenedEvent
  | IncidentResolvedEvent
  | PromptFailedEvent
  | ClientMisconfiguredEvent
  | ClientRecoveredEvent
  | EndpointDisabledEvent;

/** What a webhook delivery can carry: the log's events, and `ping`. */
export type WebhookEvent = AutoHealEvent | PingEvent;

export type EventType = AutoHealEvent['type'];

export const EVENT_TYPES: readonly EventType[] = [
  'connection.created',
  'connection.broken',
  'connection.degraded',
  'connection.recovered',
  'connection.healed',
  'connection.revoked',
  'incident.opened',
  'incident.resolved',
  'prompt.failed',
  'client.misconfigured',
  'client.recovered',
  'endpoint.disabled',
];
