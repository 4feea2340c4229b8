import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load-config';
import { classify } from '../classify';
import { endpointUrlProblem, loadProvidersFile } from './providers-file';

const dir = mkdtempSync(path.join(tmpdir(), 'providers-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fileWith(text: string): string {
  const file = path.join(dir, `p${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

const minimal = {
  name: 'acme',
  issuer: 'https://id.acme.example',
  clientId: 'autoheal',
  clientSecret: 'shh-secret-value',
  scopes: [{ scope: 'openid', reason: 'Sign in.' }],
};
const fileOf = (...providers: object[]) => fileWith(JSON.stringify({ providers }));

describe('PROVIDERS_FILE', () => {
  it('reads YAML with defaults: basic auth, PKCE, identity from the ID token, the tenant `default` unless a tenantClaim is named', () => {
    const file = fileWith(`providers:
  - name: acme
    issuer: https://id.acme.example
    clientId: autoheal
    clientSecretEnv: ACME_SECRET
    tenantClaim: org
    refreshIdleLifetime: 30d
    scopes:
      - { scope: openid, reason: Sign in. }
      - { scope: offline_access, reason: Stay connected. }
    failures:
      - { code: user_locked, outcome: user_disabled }
`);
    const [acme] = loadProvidersFile(file, { ACME_SECRET: 'from-env' });
    expect(acme.description).toMatchObject({
      name: 'acme',
      clientSecret: 'from-env',
      clientAuth: 'client_secret_basic',
      pkce: true,
      endpoints: { issuer: 'https://id.acme.example' },
      identity: { from: 'id_token', user: 'sub', tenant: 'org' },
      refreshIdleLifetimeMs: 30 * 86_400_000,
      authorizeParams: { prompt: 'consent' }, // OIDC Core §11 for offline_access
      prompts: 'events',
    });
    const table = acme.description.signals;
    const now = new Date();
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 400, error: 'invalid_grant', platformCode: 'user_locked' }, { now }, table)).toMatchObject({
      condition: 'user_disabled',
    });
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 400, error: 'invalid_grant' }, { now, refreshTokenExpiresAt: now }, table)).toMatchObject({
      condition: 'refresh_token_inactive',
    });
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 400, error: 'invalid_grant' }, { now }, table)).toMatchObject({ condition: 'grant_revoked' });
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 401, error: 'invalid_client' }, { now }, table).kind).toBe('client_misconfigured');
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 503 }, { now }, table).kind).toBe('transient');
    expect(classify({ platform: 'acme', operation: 'refresh', httpStatus: 429, error: 'invalid_grant' }, { now }, table).kind).toBe('transient');
  });

  it('a clientSecretEnv naming an unset variable leaves the provider disabled, not broken', () => {
    const { clientSecret: _, ...rest } = minimal;
    const [acme] = loadProvidersFile(fileOf({ ...rest, clientSecretEnv: 'UNSET_SECRET' }), {});
    expect(acme.description.clientSecret).toBeUndefined();
  });

  it.each([
    [{ ...minimal, name: 'Acme' }, 'provider "Acme": field name must match'],
    [{ ...minimal, name: 'zoom' }, 'provider "zoom": field name must not be one of'],
    [{ ...minimal, clientId: '' }, 'provider "acme": field clientId must be a non-empty string'],
    [{ ...minimal, issuer: 'http://id.acme.example' }, 'provider "acme": field issuer must be https (http only on a loopback host)'],
    [{ ...minimal, issuer: 'https://user:pw@id.acme.example' }, 'provider "acme": field issuer must not carry user info'],
    [{ ...minimal, issuer: undefined }, 'provider "acme": field issuer or endpoints must be given'],
    [{ ...minimal, issuer: undefined, endpoints: { authorize: 'https://a.example/auth' } }, 'provider "acme": field endpoints.token is required'],
    [{ ...minimal, clientAuth: 'private_key_jwt' }, 'provider "acme": field clientAuth must be one of'],
    [{ ...minimal, scopes: [] }, 'provider "acme": field scopes must be a list'],
    [{ ...minimal, scopes: [{ scope: 'openid' }] }, 'provider "acme": field scopes[0].reason must be a non-empty string'],
    [{ ...minimal, refreshIdleLifetime: 'forever' }, 'provider "acme": field refreshIdleLifetime must be a duration'],
    [{ ...minimal, failures: [{ error: 'x', outcome: 'explode' }] }, 'provider "acme": field failures[0].outcome must be one of'],
    [{ ...minimal, authorizeParams: { redirect_uri: 'https://evil.example' } }, 'provider "acme": field authorizeParams.redirect_uri is set by the service'],
    [{ ...minimal, clientSecretEnv: 'X' }, 'provider "acme": field clientSecret and clientSecretEnv cannot both be given'],
    [{ ...minimal, tokenUrl: 'https://x.example' }, 'provider "acme": field tokenUrl is not a provider field'],
  ])('a malformed provider stops start-up with one line naming provider and field (%#)', (provider, message) => {
    const file = fileOf(provider);
    expect(() => loadConfig({ PROVIDERS_FILE: file })).toThrow(ConfigError);
    let line = '';
    try {
      loadConfig({ PROVIDERS_FILE: file });
    } catch (error) {
      line = (error as Error).message;
    }
    expect(line).toContain(message);
    expect(line).not.toContain('\n');
    expect(line).not.toContain('shh-secret-value');
  });

  it('names a duplicate, a file that is not YAML, and a missing file', () => {
    expect(() => loadProvidersFile(fileOf(minimal, minimal), {})).toThrow('provider "acme": field name is used twice');
    expect(() => loadProvidersFile(fileWith('providers: [\n  {name: acme'), {})).toThrow(/is neither YAML nor JSON/);
    expect(() => loadProvidersFile(path.join(dir, 'absent.yaml'), {})).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('endpoints take https, or http on a loopback host only', () => {
    expect(endpointUrlProblem('https://id.example/token')).toBeUndefined();
    expect(endpointUrlProblem('http://127.0.0.1:4000/token')).toBeUndefined();
    expect(endpointUrlProblem('http://localhost:4000/token')).toBeUndefined();
    expect(endpointUrlProblem('http://127.0.0.1.evil.example/token')).toMatch(/https/);
    expect(endpointUrlProblem('http://10.0.0.5/token')).toMatch(/https/);
    expect(endpointUrlProblem('ftp://id.example/token')).toMatch(/https/);
    expect(endpointUrlProblem('https://id.example/token#x')).toMatch(/fragment/);
  });
});
