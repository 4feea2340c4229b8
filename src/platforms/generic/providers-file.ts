import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_PLATFORMS, BuiltinPlatform, PLATFORM_NAME } from '../../config/app-config';
import { parseDuration } from '../../config/duration';
import { isRecord } from '../../common/is-record';
import type { SignalOutcome, SignalRule } from '../classify';
import { CONDITIONS } from '../conditions';
import type { Endpoints, IdentitySource, ProviderDescription } from '../provider-description';
import { RFC6749_SIGNALS } from '../rfc6749-signals';

/** A generic provider as PROVIDERS_FILE describes it, before it becomes a `ProviderDescription`. */
export interface GenericProvider {
  description: ProviderDescription;
  displayName: string;
}

/** Thrown for a malformed file: its message is the one line start-up prints (SPEC §13). */
export class ProvidersFileError extends Error {
  override name = 'ProvidersFileError';
}

const OUTCOMES: readonly SignalOutcome[] = [...CONDITIONS, 'dead_grant', 'transient', 'client_misconfigured'];
const KEYS = new Set([
  'name',
  'displayName',
  'clientId',
  'clientSecret',
  'clientSecretEnv',
  'issuer',
  'endpoints',
  'clientAuth',
  'pkce',
  'scopes',
  'scopeSeparator',
  'scopesEchoed',
  'rotatesRefreshToken',
  'authorizeParams',
  'identity',
  'userClaim',
  'tenantClaim',
  'nameClaim',
  'emailClaim',
  'refreshIdleLifetime',
  'failureCodeFields',
  'failures',
]);

/**
 * Reads PROVIDERS_FILE (YAML, of which JSON is a subset): `providers:` a list of generic OAuth
 * 2.0 / OpenID Connect providers (docs/providers.md has the fields). Client secrets come from
 * the file or from the variable `clientSecretEnv` names, looked up in `env`. Every mistake is one
 * line naming the provider and the field; no value is ever echoed (secrets are among them).
 */
export function loadProvidersFile(file: string, env: NodeJS.ProcessEnv): GenericProvider[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProvidersFileError(`PROVIDERS_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ProvidersFileError(`PROVIDERS_FILE ${file} is neither YAML nor JSON${line ? ` (line ${line})` : ''}`);
  }
  if (!isRecord(document) || !Array.isArray(document.providers)) throw new ProvidersFileError(`PROVIDERS_FILE ${file}: "providers" must be a list`);
  const seen = new Set<string>();
  return document.providers.map((entry: unknown, index: number) => {
    const provider = parseProvider(entry, index, env);
    if (seen.has(provider.description.name)) throw new ProvidersFileError(`PROVIDERS_FILE provider "${provider.description.name}": field name is used twice`);
    seen.add(provider.description.name);
    return provider;
  });
}

function parseProvider(entry: unknown, index: number, env: NodeJS.ProcessEnv): GenericProvider {
  const rawName = isRecord(entry) ? entry.name : undefined;
  const who = typeof rawName === 'string' && rawName.length <= 40 ? `provider "${rawName}"` : `provider #${index + 1}`;
  const fail = (fieldName: string, rule: string): never => {
    throw new ProvidersFileError(`PROVIDERS_FILE ${who}: field ${fieldName} ${rule}`);
  };
  if (!isRecord(entry)) return fail('(entry)', 'must be a mapping');
  const p = entry;
  for (const key of Object.keys(p)) if (!KEYS.has(key)) fail(key, 'is not a provider field');

  const name = text(p, 'name', fail);
  if (!PLATFORM_NAME.test(name)) fail('name', 'must match ^[a-z][a-z0-9-]{1,30}$');
  if (BUILTIN_PLATFORMS.includes(name as BuiltinPlatform)) fail('name', 'must not be one of microsoft, slack, webex, zoom');
  const clientId = text(p, 'clientId', fail);
  let clientSecret: string | undefined;
  if (p.clientSecret !== undefined && p.clientSecretEnv !== undefined) fail('clientSecret', 'and clientSecretEnv cannot both be given');
  if (p.clientSecretEnv !== undefined) {
    const variable = text(p, 'clientSecretEnv', fail);
    if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) fail('clientSecretEnv', 'must be the name of an environment variable');
    clientSecret = env[variable] || undefined; // unset: the provider is disabled, and says so at start
  } else {
    clientSecret = text(p, 'clientSecret', fail);
  }

  let endpoints: ProviderDescription['endpoints'];
  if ((p.issuer === undefined) === (p.endpoints === undefined)) fail('issuer', 'or endpoints must be given (one of them)');
  if (p.issuer !== undefined) {
    endpoints = { issuer: url(text(p, 'issuer', fail), 'issuer', fail) };
  } else {
    const e = p.endpoints;
    if (!isRecord(e)) return fail('endpoints', 'must be a mapping of authorize, token, revocation, userinfo');
    for (const key of Object.keys(e))
      if (!['authorize', 'token', 'revocation', 'userinfo'].includes(key)) fail(`endpoints.${key}`, 'is not an endpoint (authorize, token, revocation, userinfo)');
    const at = (key: string) => (e[key] === undefined ? undefined : url(text(e, key, fail, `endpoints.${key}`), `endpoints.${key}`, fail));
    const explicit: Endpoints = { authorizeUrl: at('authorize') ?? fail('endpoints.authorize', 'is required'), tokenUrl: at('token') ?? fail('endpoints.token', 'is required') };
    const revocationUrl = at('revocation');
    const userInfoUrl = at('userinfo');
    endpoints = { ...explicit, ...(revocationUrl ? { revocationUrl } : {}), ...(userInfoUrl ? { userInfoUrl } : {}) };
  }

  const clientAuth = oneOf(p, 'clientAuth', ['client_secret_basic', 'client_secret_post'] as const, 'client_secret_basic', fail);
  const scopeSeparator = oneOf(p, 'scopeSeparator', [' ', ','] as const, ' ', fail);
  const identityFrom = oneOf(p, 'identity', ['id_token', 'userinfo'] as const, 'issuer' in endpoints ? 'id_token' : 'userinfo', fail);
  const claim = (key: string) => (p[key] === undefined ? undefined : path(text(p, key, fail), key, fail));
  const identity: IdentitySource = {
    from: identityFrom,
    user: claim('userClaim') ?? 'sub',
    tenant: claim('tenantClaim'),
    name: claim('nameClaim') ?? (identityFrom === 'id_token' ? 'name' : undefined),
    email: claim('emailClaim') ?? (identityFrom === 'id_token' ? 'email' : undefined),
  };
  if (identityFrom === 'userinfo' && !('issuer' in endpoints) && !endpoints.userInfoUrl) fail('endpoints.userinfo', 'is required when identity is userinfo');

  if (!Array.isArray(p.scopes) || p.scopes.length === 0 || p.scopes.length > 50) fail('scopes', 'must be a list of 1 to 50 {scope, reason}');
  const user = (p.scopes as unknown[]).map((s, i) => {
    if (!isRecord(s)) return fail(`scopes[${i}]`, 'must be a mapping {scope, reason}');
    const scope = text(s, 'scope', fail, `scopes[${i}].scope`);
    if (!/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(scope)) fail(`scopes[${i}].scope`, 'must be an RFC 6749 scope token');
    return { scope, reason: text(s, 'reason', fail, `scopes[${i}].reason`) };
  });

  let authorizeParams: Record<string, string> | undefined;
  if (p.authorizeParams !== undefined) {
    if (!isRecord(p.authorizeParams)) fail('authorizeParams', 'must be a mapping of strings');
    authorizeParams = {};
    const reserved = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']);
    for (const [key, value] of Object.entries(p.authorizeParams as Record<string, unknown>)) {
      if (reserved.has(key)) fail(`authorizeParams.${key}`, 'is set by the service');
      if (typeof value !== 'string') fail(`authorizeParams.${key}`, 'must be a string');
      authorizeParams[key] = value as string;
    }
  } else if ('issuer' in endpoints && user.some((s) => s.scope === 'offline_access')) {
    authorizeParams = { prompt: 'consent' }; // OIDC Core §11: offline_access is only granted with prompt=consent
  }

  let refreshIdleLifetimeMs: number | undefined;
  if (p.refreshIdleLifetime !== undefined) {
    refreshIdleLifetimeMs = parseDuration(text(p, 'refreshIdleLifetime', fail));
    if (refreshIdleLifetimeMs === undefined) fail('refreshIdleLifetime', 'must be a duration such as 90d, 12h or 30s');
  }
  const failureCodeFields = p.failureCodeFields === undefined ? [] : strings(p.failureCodeFields, 'failureCodeFields', fail);
  const rules = p.failures === undefined ? [] : failureRows(p.failures, fail);

  return {
    displayName: p.displayName === undefined ? name : text(p, 'displayName', fail),
    description: {
      name,
      clientId,
      clientSecret,
      endpoints,
      clientAuth,
      pkce: bool(p, 'pkce', true, fail),
      scopeSeparator,
      scopesEchoed: bool(p, 'scopesEchoed', true, fail),
      rotatesRefreshToken: bool(p, 'rotatesRefreshToken', true, fail),
      authorizeParams,
      identity,
      refreshIdleLifetimeMs,
      failureCodeFields,
      defaultTokenType: 'Bearer',
      scopes: { user, bot: [], grants: { notEchoed: ['openid', 'offline_access'], stripPrefixes: [], caseInsensitive: false } },
      signals: { platform: name, precedence: RFC6749_SIGNALS.precedence, rules: [...rules, ...RFC6749_SIGNALS.rules] },
      prompts: 'events',
    },
  };
}

type Fail = (fieldName: string, rule: string) => never;

function text(o: Record<string, unknown>, key: string, fail: Fail, label = key): string {
  const value = o[key];
  if (typeof value !== 'string' || value.trim() === '' || value.length > 2000) return fail(label, 'must be a non-empty string');
  return value;
}

function bool(o: Record<string, unknown>, key: string, fallback: boolean, fail: Fail): boolean {
  const value = o[key];
  if (value === undefined) return fallback;
  return typeof value === 'boolean' ? value : fail(key, 'must be true or false');
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, choices: readonly T[], fallback: T, fail: Fail): T {
  if (o[key] === undefined) return fallback;
  if (!choices.includes(o[key] as T)) fail(key, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  return o[key] as T;
}

function strings(value: unknown, label: string, fail: Fail): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) fail(label, 'must be a list of strings');
  return value as string[];
}

/** A claim name or dotted JSON path (`sub`, `data.user.id`, `emails.0`). */
function path(value: string, label: string, fail: Fail): string {
  if (!/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/.test(value)) fail(label, 'must be a claim name or dotted JSON path');
  return value;
}

/**
 * An endpoint the client secret and users' tokens are sent to: https, or http on a loopback
 * host (a local test server). No user info, no fragment.
 */
export function endpointUrlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (u.username || u.password || u.hash) return 'must not carry user info or a fragment';
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) return 'must be https (http only on a loopback host)';
  return undefined;
}

function url(value: string, label: string, fail: Fail): string {
  const problem = endpointUrlProblem(value);
  if (problem) fail(label, problem);
  return value;
}

function failureRows(value: unknown, fail: Fail): SignalRule[] {
  if (!Array.isArray(value)) return fail('failures', 'must be a list of {error or code, outcome}');
  return value.map((row: unknown, i) => {
    const label = `failures[${i}]`;
    if (!isRecord(row) || (row.error === undefined) === (row.code === undefined)) return fail(label, 'must name one of error or code');
    const outcome = row.outcome;
    if (!OUTCOMES.includes(outcome as SignalOutcome)) fail(`${label}.outcome`, `must be one of ${OUTCOMES.join(', ')}`);
    const key = row.error !== undefined ? 'error' : 'platformCode';
    const matched = text(row, row.error !== undefined ? 'error' : 'code', fail, `${label}.${row.error !== undefined ? 'error' : 'code'}`);
    return { key, value: matched, outcome: outcome as SignalOutcome, why: typeof row.why === 'string' ? row.why : 'from PROVIDERS_FILE' };
  });
}
