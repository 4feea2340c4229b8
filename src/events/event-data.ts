import type { ConnectionRow } from '../connections/connection.types';
import type { EventData, EventType, NewEvent } from './event-types';

/** A connection event: the row's ids, platform and status, picked by name (never a token). */
export function connectionEvent(type: EventType, row: ConnectionRow, extra: EventData = {}): NewEvent {
  return {
    type,
    tenantId: row.tenantId,
    connectionId: row.id,
    data: {
      connectionId: row.id,
      platform: row.platform,
      tenantExternalId: row.tenantExternalId,
      userExternalId: row.userExternalId,
      status: row.status,
      ...(row.condition ? { condition: row.condition } : {}),
      ...extra,
    },
  };
}

/** What an incident event tells of its incident. */
export interface IncidentFacts {
  id: string;
  tenantId: string;
  platform: string;
  condition: string;
  audience: string;
  connectionId: string | null;
  status: string;
  openedAt: Date;
  resolvedAt: Date | null;
}

export function incidentEvent(type: 'incident.opened' | 'incident.resolved', i: IncidentFacts): NewEvent {
  return {
    type,
    tenantId: i.tenantId,
    connectionId: i.connectionId,
    data: {
      incidentId: i.id,
      platform: i.platform,
      condition: i.condition,
      audience: i.audience,
      status: i.status,
      ...(i.connectionId ? { connectionId: i.connectionId } : {}),
      openedAt: i.openedAt.toISOString(),
      ...(i.resolvedAt ? { resolvedAt: i.resolvedAt.toISOString() } : {}),
    },
  };
}
