import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.publicBaseUrl).toBe('http://localhost:3000');
    expect(c.embeddedDatabase).toBe(true);
    expect(c.refreshSweepIntervalMs).toBe(30_000);
    expect(c.refreshConcurrency).toBe(64);
    expect(c.healReminderScheduleMs).toEqual([3_600_000, 86_400_000, 259_200_000]);
    expect(c.healProbeIntervalMs).toBe(900_000);
    expect(c.connectLinkTtlMs).toBe(7 * 86_400_000);
    expect(c.microsoft.authorityHost).toBe('https://login.microsoftonline.com');
    expect(c.slack.apiUrl).toBe('https://slack.com/api/');
    expect(c.webex.apiUrl).toBe('https://webexapis.com/v1');
    expect(c.zoom.oauthUrl).toBe('https://zoom.us');
    expect(c.zoom.apiUrl).toBe('https://api.zoom.us/v2');
  });

  it('reads durations, plain http base URLs and PUBLIC_BASE_URL from PORT', () => {
    const c = loadConfig({
      PORT: '8080',
      REFRESH_SWEEP_INTERVAL: '250ms',
      HEAL_REMINDER_SCHEDULE: '1m,2h',
      CONNECT_LINK_TTL: '1d',
      MICROSOFT_AUTHORITY_HOST: 'http://127.0.0.1:4010/',
      DATABASE_URL: 'postgres://u:p@db:5432/autoheal',
      VAULT_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    });
    expect(c.publicBaseUrl).toBe('http://localhost:8080');
    expect(c.refreshSweepIntervalMs).toBe(250);
    expect(c.healReminderScheduleMs).toEqual([60_000, 7_200_000]);
    expect(c.connectLinkTtlMs).toBe(86_400_000);
    expect(c.microsoft.authorityHost).toBe('http://127.0.0.1:4010');
    expect(c.embeddedDatabase).toBe(false);
  });

  it('WEBHOOK_ALLOW_PRIVATE_URLS: false by default, true or false when set, nothing else', () => {
    expect(loadConfig({}).webhookAllowPrivateUrls).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }).webhookAllowPrivateUrls).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' }).webhookAllowPrivateUrls).toBe(false);
    expect(loadConfig({}).webhookRetryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1s,2m' }).webhookRetryScheduleMs).toEqual([1_000, 120_000]);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    expect(loadConfig({}).webhookConcurrency).toBe(8);
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: '0' })).toThrow(/WEBHOOK_CONCURRENCY/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_URLS must be true or false/);
  });

  it('MICROSOFT_BOT_SERVICE_HOSTS: the Bot Framework hosts by default, replaced when set', () => {
    expect(loadConfig({}).microsoft.botServiceHosts).toEqual([
      'smba.trafficmanager.net',
      '*.botframework.com',
      'smba.infra.gcc.teams.microsoft.com',
      'smba.infra.gov.teams.microsoft.us',
      'smba.infra.dod.teams.microsoft.us',
    ]);
    expect(loadConfig({ MICROSOFT_BOT_SERVICE_HOSTS: 'Connector.Contoso.example, *.bots.contoso.example' }).microsoft.botServiceHosts).toEqual([
      'connector.contoso.example',
      '*.bots.contoso.example',
    ]);
  });

  it.each([
    ['PORT', 'abc', /PORT/],
    ['PORT', '70000', /PORT/],
    ['REFRESH_SWEEP_INTERVAL', '30', /REFRESH_SWEEP_INTERVAL must be a positive duration/],
    ['HEAL_PROBE_INTERVAL', '0m', /HEAL_PROBE_INTERVAL/],
    ['HEAL_REMINDER_SCHEDULE', '1h,soon', /HEAL_REMINDER_SCHEDULE must be a comma-separated list/],
    ['REFRESH_CONCURRENCY', '0', /REFRESH_CONCURRENCY/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres/],
    ['PUBLIC_BASE_URL', 'not a url', /PUBLIC_BASE_URL/],
    ['SLACK_API_URL', 'ftp://slack', /SLACK_API_URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
    ['ADMIN_API_KEY', 'short', /ADMIN_API_KEY must be at least 32 characters/],
    ['VAULT_KEYS', 'k1:c2hvcnQ=', /VAULT_KEYS key "k1" must be 32 bytes/],
    ['VAULT_KEYS', `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`, /key "k1" appears twice/],
    ['DATABASE_URL', 'postgres://u:p@db/x', /VAULT_KEYS is required when DATABASE_URL is set/],
    ['MICROSOFT_BOT_SERVICE_HOSTS', 'https://evil.example', /MICROSOFT_BOT_SERVICE_HOSTS must be a comma-separated list of host names/],
    ['MICROSOFT_BOT_SERVICE_HOSTS', '*', /MICROSOFT_BOT_SERVICE_HOSTS/],
  ])('rejects %s=%s with one clear line naming it', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
    if (name === 'ADMIN_API_KEY' || name === 'VAULT_KEYS') expect(text).not.toContain(value.split(':')[1] ?? value);
  });
});
