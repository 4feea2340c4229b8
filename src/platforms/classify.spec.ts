import { CONDITIONS } from './conditions';
import { classify, matchRule, SIGNAL_TABLES } from './classify';
import type { FailureSignals } from './platform';

const now = new Date('2030-01-01T00:00:00Z');
const ms = (signals: Partial<FailureSignals>): FailureSignals => ({ platform: 'microsoft', operation: 'refresh', ...signals });

describe('signal tables', () => {
  it.each(Object.values(SIGNAL_TABLES))('$platform has no duplicate or unreachable rows', (table) => {
    const keys = table.rules.map((r) => `${r.key}|${String(r.value).toLowerCase()}|${r.operation ?? '*'}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const rule of table.rules) expect(table.precedence).toContain(rule.key);
  });

  it('together reach every condition of the matrix', () => {
    const outcomes = new Set(Object.values(SIGNAL_TABLES).flatMap((t) => t.rules.map((r) => r.outcome)));
    for (const condition of CONDITIONS) if (condition !== 'refresh_token_inactive') expect(outcomes).toContain(condition);
    expect(outcomes).toContain('dead_grant');
  });
});

describe('classify', () => {
  it('treats failures below HTTP, 429 and 5xx as transient whatever the body says', () => {
    for (const network of ['timeout', 'reset', 'connection', 'unparseable'] as const) {
      expect(classify(ms({ network, error: 'invalid_grant' }), { now }).kind).toBe('transient');
    }
    expect(classify(ms({ httpStatus: 503, error: 'invalid_grant', aadsts: 50173 }), { now }).kind).toBe('transient');
    expect(classify(ms({ httpStatus: 429, retryAfterSeconds: 12 }), { now })).toEqual({ kind: 'transient', retryAfterMs: 12_000, reason: 'http 429' });
  });

  it('lets the AADSTS number win over suberror and error, then suberror over error', () => {
    expect(classify(ms({ aadsts: 53003, error: 'interaction_required', suberror: 'basic_action' }), { now })).toMatchObject({
      condition: 'conditional_access_blocked',
      audience: 'admin',
    });
    expect(classify(ms({ aadsts: 1234567, error: 'invalid_grant', suberror: 'consent_required' }), { now })).toMatchObject({ condition: 'consent_required' });
    expect(classify(ms({ error: 'invalid_client' }), { now }).kind).toBe('client_misconfigured');
  });

  it('splits a dead grant by the known refresh-token expiry', () => {
    const dead = ms({ error: 'invalid_grant' });
    expect(classify(dead, { now })).toMatchObject({ condition: 'grant_revoked', audience: 'user' });
    expect(classify(dead, { now, refreshTokenExpiresAt: now })).toMatchObject({ condition: 'refresh_token_inactive' });
    expect(classify(dead, { now, refreshTokenExpiresAt: new Date(now.getTime() + 1) })).toMatchObject({ condition: 'grant_revoked' });
  });

  it('reads Webex invalid_request as a dead grant only on a refresh', () => {
    const webex = (operation: FailureSignals['operation']): FailureSignals => ({ platform: 'webex', operation, error: 'invalid_request' });
    expect(matchRule(webex('refresh'))?.outcome).toBe('dead_grant');
    expect(matchRule(webex('exchange'))).toBeUndefined();
  });

  it('matches Zoom reasons whatever their case and trailing punctuation', () => {
    expect(matchRule({ platform: 'zoom', operation: 'refresh', platformCode: 'invalid token', error: 'invalid_grant' })?.value).toBe('Invalid Token!');
  });

  it('falls back to grant_revoked with the raw code for an unknown permanent failure', () => {
    expect(classify(ms({ aadsts: 7654321, error: 'invalid_request' }), { now })).toMatchObject({ condition: 'grant_revoked', unclassified: 'AADSTS7654321' });
    expect(classify({ platform: 'slack', operation: 'refresh', platformCode: 'brand_new' }, { now })).toMatchObject({ unclassified: 'brand_new' });
    expect(classify({ platform: 'webex', operation: 'refresh', httpStatus: 403 }, { now })).toMatchObject({ unclassified: 'http_403' });
  });
});
