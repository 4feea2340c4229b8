import { randomBytes, randomUUID } from 'node:crypto';
import { Failure, microsoftError, Sandbox, slackError, startSandbox, webexOauthError, zoomOauthError } from '../sandbox';
import type { AppConfig, BuiltinPlatform as Platform } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { classify, matchRule, SIGNAL_TABLES, SignalRule } from '../src/platforms/classify';
import { MicrosoftOAuth } from '../src/platforms/microsoft/microsoft-oauth';
import { OAuthProvider, ProviderFailure } from '../src/platforms/platform';
import { SlackOAuth } from '../src/platforms/slack/slack-oauth';
import { webexOAuth } from '../src/platforms/webex/webex-provider';
import { zoomOAuth } from '../src/platforms/zoom/zoom-provider';
import { Secret } from '../src/vault/secret';

/**
 * Every row of every signal table, driven end to end: the sandbox answers a refresh with the
 * platform's real error shape, the adapter turns it into signals through the real SDK, and the
 * classifier must land on that row and its outcome.
 */

/** A real AADSTS number that is in no table row (Entra's "malformed request"). */
const UNLISTED_AADSTS = 9002313;
const WEBEX_DEAD_REFRESH = 'The refresh token provided is expired, revoked, malformed, or invalid.';

const ADAPTERS: Record<Platform, (config: AppConfig, options?: { timeoutMs?: number }) => OAuthProvider> = {
  microsoft: (c, o) => new MicrosoftOAuth(c, o),
  slack: (c, o) => new SlackOAuth(c, o),
  webex: (c, o) => webexOAuth(c, o),
  zoom: (c, o) => zoomOAuth(c, o),
};

/** The body the platform sends for a row, as its own error builder makes it. */
function failureFor(platform: Platform, rule: SignalRule): Failure {
  const value = String(rule.value);
  switch (platform) {
    case 'microsoft':
      if (rule.key === 'aadsts') return microsoftError(Number(rule.value));
      return rule.key === 'suberror' ? microsoftError(UNLISTED_AADSTS, { suberror: value }) : microsoftError(UNLISTED_AADSTS, { error: value });
    case 'slack':
      return slackError(value, 3);
    case 'webex':
      return webexOauthError(value, value === 'invalid_request' ? WEBEX_DEAD_REFRESH : `Webex says ${value}.`);
    case 'zoom':
      return rule.key === 'platformCode' ? zoomOauthError(rule.seenWith ?? 'invalid_grant', value) : zoomOauthError(value, 'Bad Request');
  }
}

const PLATFORMS: Platform[] = ['microsoft', 'slack', 'webex', 'zoom'];
let sandbox: Sandbox;
let config: AppConfig;
const grants = new Map<Platform, { tenantExternalId: string; userExternalId: string; refreshToken: string }>();

beforeAll(async () => {
  sandbox = await startSandbox();
  config = loadConfig(sandbox.env);
  for (const platform of PLATFORMS) {
    const who = { tenantExternalId: `T${randomBytes(5).toString('hex').toUpperCase()}`, userExternalId: `U${randomBytes(5).toString('hex').toUpperCase()}` };
    if (platform === 'microsoft') Object.assign(who, { tenantExternalId: randomUUID(), userExternalId: randomUUID() });
    const grant = sandbox.control.mintGrant(platform, { ...who, scopes: ['User.Read'] });
    grants.set(platform, { ...who, refreshToken: grant.refreshToken });
  }
});
afterAll(() => sandbox.close());
afterEach(() => sandbox.control.clearFailures());

/** Arms one failure for the platform's user and returns what the adapter threw. */
async function refreshFailing(platform: Platform, failure: Failure, timeoutMs?: number): Promise<ProviderFailure> {
  const grant = grants.get(platform);
  if (!grant) throw new Error(`no grant for ${platform}`);
  sandbox.control.failRefreshes(platform, { userExternalId: grant.userExternalId }, failure, 1);
  const adapter = ADAPTERS[platform](config, { timeoutMs });
  const error = await adapter
    .refresh({ refreshToken: new Secret(grant.refreshToken), tenantExternalId: grant.tenantExternalId, userExternalId: grant.userExternalId, scopes: ['User.Read'] })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ProviderFailure);
  const thrown = error as ProviderFailure;
  expect(thrown.signals).toMatchObject({ platform, operation: 'refresh' });
  expect(thrown.message).not.toContain(grant.refreshToken);
  return thrown;
}

const past = (now: Date): Date => new Date(now.getTime() - 1000);
const future = (now: Date): Date => new Date(now.getTime() + 86_400_000);

describe.each(PLATFORMS)('%s signal table', (platform) => {
  const rows = SIGNAL_TABLES[platform].rules.map((rule) => ({ name: `${rule.key} ${rule.value} → ${rule.outcome}`, rule }));

  it.each(rows)('$name', async ({ rule }) => {
    const { signals } = await refreshFailing(platform, failureFor(platform, rule));
    expect(matchRule(signals)).toBe(rule);
    const now = new Date();
    const result = classify(signals, { now });
    switch (rule.outcome) {
      case 'transient':
        return expect(result.kind).toBe('transient');
      case 'client_misconfigured':
        return expect(result.kind).toBe('client_misconfigured');
      case 'dead_grant':
        expect(classify(signals, { now, refreshTokenExpiresAt: past(now) })).toMatchObject({ kind: 'condition', condition: 'refresh_token_inactive', audience: 'user' });
        expect(classify(signals, { now, refreshTokenExpiresAt: future(now) })).toMatchObject({ kind: 'condition', condition: 'grant_revoked', audience: 'user' });
        return expect(result).toMatchObject({ kind: 'condition', condition: 'grant_revoked' });
      default:
        expect(result).toMatchObject({ kind: 'condition', condition: rule.outcome });
        return expect(result).not.toHaveProperty('unclassified');
    }
  });
});

describe.each(PLATFORMS)('%s transient failures', (platform) => {
  const rateLimited: Record<Platform, Failure> = {
    microsoft: { status: 429, body: microsoftError(90055, { error: 'temporarily_unavailable' }).body, headers: { 'retry-after': '7' } },
    slack: slackError('ratelimited', 7),
    webex: { status: 429, body: { message: 'Too Many Requests', trackingId: 'ROUTER_X' }, headers: { 'retry-after': '7' } },
    zoom: { status: 429, body: { code: 429, message: 'You have reached the maximum per-second rate limit for this API. Try again later.' }, headers: { 'retry-after': '7' } },
  };

  it('429 honours Retry-After', async () => {
    const { signals } = await refreshFailing(platform, rateLimited[platform]);
    expect(classify(signals, { now: new Date() })).toEqual(expect.objectContaining({ kind: 'transient', retryAfterMs: 7000 }));
  });

  it('500 with a JSON body', async () => {
    const body =
      platform === 'microsoft' ? microsoftError(50000, { error: 'server_error' }).body : platform === 'slack' ? { ok: false, error: 'internal_error' } : { error: 'server_error' };
    const { signals } = await refreshFailing(platform, { status: 500, body });
    expect(signals.httpStatus).toBe(500);
    expect(classify(signals, { now: new Date() }).kind).toBe('transient');
  });

  it('502 with an HTML body from a proxy', async () => {
    const { signals } = await refreshFailing(platform, { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    expect(signals.httpStatus).toBe(502);
    expect(classify(signals, { now: new Date() }).kind).toBe('transient');
  });

  it('a reset connection', async () => {
    const { signals } = await refreshFailing(platform, { reset: true });
    expect(signals.network).toMatch(/^(reset|connection)$/);
    expect(classify(signals, { now: new Date() }).kind).toBe('transient');
  });

  it('a hang ends at the timeout', async () => {
    const { signals } = await refreshFailing(platform, { hang: true }, 200);
    expect(signals.network).toBe('timeout');
    expect(classify(signals, { now: new Date() }).kind).toBe('transient');
  });
});

describe('unrecognised and special cases', () => {
  const unknown: Record<Platform, { failure: Failure; raw: string }> = {
    microsoft: { failure: microsoftError(UNLISTED_AADSTS), raw: `AADSTS${UNLISTED_AADSTS}` },
    slack: { failure: slackError('some_future_code'), raw: 'some_future_code' },
    webex: { failure: webexOauthError('access_denied', 'Denied.'), raw: 'access_denied' },
    zoom: { failure: zoomOauthError('invalid_request', 'Something new.'), raw: 'Something new.' },
  };

  it.each(PLATFORMS)('%s: an unknown permanent failure is grant_revoked, counted as unclassified', async (platform) => {
    const { signals } = await refreshFailing(platform, unknown[platform].failure);
    expect(matchRule(signals)).toBeUndefined();
    expect(classify(signals, { now: new Date() })).toMatchObject({ kind: 'condition', condition: 'grant_revoked', unclassified: unknown[platform].raw });
  });

  it('microsoft: an old answer without error_codes is read by the AADSTS number in its description', async () => {
    const { signals } = await refreshFailing('microsoft', microsoftError(53003, { omitErrorCodes: true }));
    expect(signals.aadsts).toBe(53003);
    expect(classify(signals, { now: new Date() })).toMatchObject({ condition: 'conditional_access_blocked', audience: 'admin' });
  });

  it('microsoft: the number wins over an interaction suberror (53003 message_only, 50076 basic_action)', async () => {
    const blocked = await refreshFailing('microsoft', microsoftError(53003, { suberror: 'basic_action' }));
    expect(blocked.signals.suberror).toBe('basic_action');
    expect(classify(blocked.signals, { now: new Date() })).toMatchObject({ condition: 'conditional_access_blocked' });
    const mfa = await refreshFailing('microsoft', microsoftError(50076));
    expect(classify(mfa.signals, { now: new Date() })).toMatchObject({ condition: 'mfa_enrollment_required', audience: 'user' });
  });
});
