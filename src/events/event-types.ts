/** SPEC §11: the fixed event types. */
export const EVENT_TYPES = [
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
  // An addition to SPEC §11's list, which asks for "an event" when an endpoint is disabled.
  'endpoint.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * What an event's `data` may carry (SPEC §11): ids, platform, status, condition, audience,
 * external ids and timestamps. Never a token, a secret or a platform's free text: the type
 * admits only strings, numbers and nulls, and every emitter picks its fields by name.
 */
export type EventData = Readonly<Record<string, string | number | null>>;

export interface NewEvent {
  type: EventType;
  /** Null only for client.* events (our own OAuth client, no tenant). */
  tenantId: string | null;
  connectionId?: string | null;
  data: EventData;
}
