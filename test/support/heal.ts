import { Client } from 'pg';
import type { ReceivedMessage, SandboxPlatform } from '../../sandbox';
import { fullScopes, makeTenant } from './factories';
import { botSettings, platformIds, World } from './world';

/** Polls `fn` every `every` ms until it returns something truthy; fails with `what` after `ms`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs jobs one at a time. The sandbox has one signed-in browser user per platform, so
 * concurrent tests must not interleave their sign-in and consent steps.
 */
export function serial(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (job) => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}

export interface HealTenant {
  id: string;
  externalId: string;
  admins: string[];
}

/** A tenant whose bot reaches the sandbox, with `admins` admins (no e-mails: DMs go by id). */
export async function tenantWithAdmins(w: World, platform: SandboxPlatform, admins = 2): Promise<HealTenant> {
  const externalId = platformIds(platform).tenant;
  const ids = Array.from({ length: admins }, () => platformIds(platform).user);
  const t = await makeTenant(w.t, { platform, externalId, admins: ids.map((userExternalId) => ({ userExternalId })), ...botSettings(w, platform, externalId) });
  return { id: t.id, externalId, admins: ids };
}

/** Imports a grant minted in the sandbox (SPEC §5 `POST /v1/connections`); returns the connection id. */
export async function importGrant(
  w: World,
  platform: SandboxPlatform,
  tenantExternalId: string,
  opts: { userExternalId?: string; expiresInSeconds?: number; refreshTokenExpiresAt?: Date; scopes?: string[]; grantedScopes?: string[] } = {},
): Promise<{ id: string; userExternalId: string; status: string; accessToken: string; view: Record<string, unknown> }> {
  const userExternalId = opts.userExternalId ?? platformIds(platform).user;
  const scopes = opts.scopes ?? fullScopes(platform);
  const grant = w.sb.control.mintGrant(platform, { tenantExternalId, userExternalId, scopes: opts.grantedScopes ?? scopes });
  const res = await w.t.call('POST', '/v1/connections', {
    platform,
    tenantExternalId,
    userExternalId,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    expiresAt: new Date(Date.now() + (opts.expiresInSeconds ?? 3600) * 1000).toISOString(),
    ...(opts.refreshTokenExpiresAt ? { refreshTokenExpiresAt: opts.refreshTokenExpiresAt.toISOString() } : {}),
    scopes,
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, userExternalId, status: res.body.status, accessToken: grant.accessToken, view: res.body };
}

/** Direct SQL on the app's database (a world's or a URL), for what only time would otherwise do, and to read the outbox. */
export async function sql<T = Record<string, unknown>>(on: World | string, text: string, params: unknown[] = []): Promise<T[]> {
  const db = new Client({ connectionString: typeof on === 'string' ? on : on.t.databaseUrl });
  await db.connect();
  try {
    return (await db.query(text, params)).rows as T[];
  } finally {
    await db.end();
  }
}

/** Makes the stored access token expired, as an hour passing would. */
export async function expireAccessToken(w: World, connectionId: string): Promise<void> {
  await sql(w, `UPDATE connections SET access_token_expires_at = now() - interval '1 second' WHERE id = $1`, [connectionId]);
}

export const dms = (w: World, platform: SandboxPlatform, recipient: string): ReceivedMessage[] => w.sb.control.messages(platform, recipient);

export const resyncLink = (m: ReceivedMessage | undefined): string | undefined => m?.links.find((l) => l.includes('/connect/'));

export interface PromptView {
  kind: string;
  recipient: string;
  status: string;
}

/** The incident as `GET /v1/incidents/{id}` shows it, once `ready` holds. */
export async function incidentWhen(w: World, id: string, what: string, ready: (i: { status: string; prompts: PromptView[] }) => boolean, ms = 20_000, every = 50) {
  return waitFor(
    what,
    async () => {
      const res = await w.t.call('GET', `/v1/incidents/${id}`);
      return res.status === 200 && ready(res.body) ? res.body : undefined;
    },
    ms,
    every,
  );
}

export const sentPrompts = (prompts: PromptView[], kind?: string) => prompts.filter((p) => p.status === 'sent' && (kind === undefined || p.kind === kind));

export const PLATFORM_NAME: Record<SandboxPlatform, string> = { microsoft: 'Microsoft Teams', slack: 'Slack', webex: 'Webex', zoom: 'Zoom' };

/**
 * GET /v1/events shows an event once every transaction older than its own has ended, in the
 * whole cluster (the snapshot-xmin rule of docs/decisions.md), and the test files share one
 * cluster. Waits until that holds for every event in this world's database so far.
 */
export const logCaughtUp = (w: World) =>
  waitFor(
    'the event log to catch up',
    async () => (await sql<{ n: number }>(w, `SELECT count(*)::int AS n FROM events WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())`))[0].n === 0,
  );
