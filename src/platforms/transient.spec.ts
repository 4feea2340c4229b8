import { classify, isTransient, SIGNAL_TABLES, transientReason } from './classify';
import type { FailureSignals } from './platform';

const now = new Date('2030-01-01T00:00:00Z');
const OPERATIONS: FailureSignals['operation'][] = ['refresh', 'exchange', 'send'];

describe('isTransient, the one decision of refresh, outbox and OAuth callback', () => {
  it.each(OPERATIONS)('takes failures below HTTP, 429 and 5xx as transient on a %s, whatever the body says', (operation) => {
    for (const network of ['timeout', 'reset', 'connection', 'unparseable'] as const) {
      expect(transientReason({ platform: 'zoom', operation, network, error: 'invalid_grant' })).toBe(`network ${network}`);
    }
    expect(transientReason({ platform: 'webex', operation, httpStatus: 429, error: 'invalid_grant' })).toBe('http 429');
    expect(transientReason({ platform: 'slack', operation, httpStatus: 500, platformCode: 'invalid_code' })).toBe('http 500');
    expect(isTransient({ platform: 'microsoft', operation, httpStatus: 503, error: 'invalid_grant', aadsts: 50173 })).toBe(true);
  });

  it.each(OPERATIONS)("takes Slack's SPEC §3 try-later codes as transient on a %s, even on HTTP 200", (operation) => {
    for (const platformCode of ['ratelimited', 'service_unavailable', 'internal_error', 'fatal_error', 'org_login_required']) {
      expect(transientReason({ platform: 'slack', operation, httpStatus: 200, platformCode })).toBe(`platformCode ${platformCode}`);
    }
  });

  it('takes a permanent refusal as permanent', () => {
    expect(isTransient({ platform: 'slack', operation: 'exchange', httpStatus: 200, platformCode: 'invalid_code' })).toBe(false);
    expect(isTransient({ platform: 'slack', operation: 'send', httpStatus: 200, platformCode: 'token_revoked' })).toBe(false);
    expect(isTransient({ platform: 'microsoft', operation: 'exchange', httpStatus: 400, error: 'invalid_grant', aadsts: 70000 })).toBe(false);
    expect(isTransient({ platform: 'webex', operation: 'refresh', httpStatus: 400, error: 'invalid_request' })).toBe(false);
    expect(isTransient({ platform: 'zoom', operation: 'send', httpStatus: 404, platformCode: '1001' })).toBe(false);
    expect(transientReason({ platform: 'webex', operation: 'exchange', httpStatus: 403 })).toBeUndefined();
  });

  // The three places answered differently before; these are the cases where they disagreed.
  it('takes a 429 on the code exchange as transient (the callback used to read it as a refusal)', () => {
    expect(isTransient({ platform: 'zoom', operation: 'exchange', httpStatus: 429, retryAfterSeconds: 3 })).toBe(true);
    expect(isTransient({ platform: 'slack', operation: 'exchange', httpStatus: 429, platformCode: 'ratelimited' })).toBe(true);
  });

  it("takes a platform's try-later code on the code exchange as transient (the callback looked at HTTP only)", () => {
    expect(isTransient({ platform: 'slack', operation: 'exchange', httpStatus: 200, platformCode: 'service_unavailable' })).toBe(true);
    expect(isTransient({ platform: 'microsoft', operation: 'exchange', httpStatus: 400, error: 'temporarily_unavailable', aadsts: 90033 })).toBe(true);
    expect(isTransient({ platform: 'webex', operation: 'exchange', httpStatus: 400, error: 'temporarily_unavailable' })).toBe(true);
  });

  it("takes Slack's fatal_error on a bot send as transient (the outbox knew only ratelimited)", () => {
    expect(isTransient({ platform: 'slack', operation: 'send', httpStatus: 200, platformCode: 'fatal_error' })).toBe(true);
    expect(isTransient({ platform: 'slack', operation: 'send', httpStatus: 200, platformCode: 'internal_error' })).toBe(true);
  });

  it('answers as classify does for every row of every table, on every operation', () => {
    for (const table of Object.values(SIGNAL_TABLES)) {
      for (const rule of table.rules) {
        for (const operation of rule.operation ? [rule.operation] : OPERATIONS) {
          const base: FailureSignals = { platform: table.platform, operation, httpStatus: 400 };
          const signals: FailureSignals = rule.key === 'aadsts' ? { ...base, aadsts: Number(rule.value) } : { ...base, [rule.key]: String(rule.value) };
          const row = `${table.platform} ${rule.key} ${rule.value} on ${operation}`;
          expect({ row, transient: isTransient(signals) }).toEqual({ row, transient: rule.outcome === 'transient' });
          expect({ row, classified: classify(signals, { now }).kind === 'transient' }).toEqual({ row, classified: rule.outcome === 'transient' });
        }
      }
    }
  });
});
