import { Injectable } from '@nestjs/common';
import { missingScopes } from '../../platforms/scope-catalog';
import { ConnectionEvents } from '../connection-events';
import type { ConnectionRow } from '../connection.types';
import { ConnectionState } from '../connection-state';

/**
 * SPEC §8: a connection whose granted scopes lack a required one is `consent_required`
 * before a relay hits the wall. Checked whenever granted scopes are learnt: OAuth,
 * import and every refresh.
 */
@Injectable()
export class ScopeDrift {
  constructor(
    private readonly state: ConnectionState,
    private readonly events: ConnectionEvents,
  ) {}

  async check(row: ConnectionRow): Promise<ConnectionRow> {
    if (row.status !== 'active') return row;
    const missing = missingScopes(row.platform, row.scopes);
    if (missing.length === 0) return row;
    const broken = await this.state.markDrift(row.id, row.version, {
      kind: 'condition',
      condition: 'consent_required',
      audience: 'admin',
      code: 'scope_missing',
      message: `granted scopes lack ${missing.join(', ')}`.slice(0, 300),
      at: new Date().toISOString(),
    });
    if (!broken) return row;
    const incidentId = await this.events.broken(broken);
    return incidentId ? { ...broken, incidentId } : broken;
  }
}
