import { Injectable } from '@nestjs/common';
import { OAuthProviders } from '../../platforms/oauth-registry';
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
    private readonly providers: OAuthProviders,
  ) {}

  async check(row: ConnectionRow): Promise<ConnectionRow> {
    const provider = this.providers.find(row.platform);
    if (row.status !== 'active' || !provider) return row;
    const missing = missingScopes(provider.scopes, row.scopes);
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
