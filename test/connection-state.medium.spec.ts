import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BrokenStatus, ConnectionState, TokenWrite, Transition, TRANSITIONS } from '../src/connections/connection-state';
import type { ConnectionRow, ConnectionStatus, LastError } from '../src/connections/connection.types';
import { ConnectionsRepository } from '../src/connections/connections.repository';
import { DeliveryHandoff } from '../src/events/delivery-handoff';
import { EventLog } from '../src/events/event-log';
import type { Condition } from '../src/platforms/conditions';
import type { SealedSecret } from '../src/vault/secret';
import { createMigratedDataSource } from './support/database';

/** The state module holds bytes it never opens: any bytes stand for sealed tokens here. */
const sealed = (s: string) => Buffer.from(s) as SealedSecret;
const LEASE_MS = 30_000;
const STATUSES: readonly ConnectionStatus[] = ['active', 'needs_reauth', 'blocked', 'revoked'];

const tokens = (tag: string): TokenWrite => ({
  accessToken: sealed(`at-${tag}`),
  refreshToken: sealed(`rt-${tag}`),
  vaultKeyId: 'k1',
  accessTokenExpiresAt: new Date(Date.now() + 3600_000),
  scopes: ['chat:write'],
  nextRefreshAt: new Date(Date.now() + 3000_000),
});
const failure = (condition: Condition, audience: 'user' | 'admin'): LastError => ({
  kind: 'condition',
  condition,
  audience,
  code: 'test',
  message: 'refused',
  at: new Date().toISOString(),
});

/** ConnectionState (SPEC §2) on a real, migrated PostgreSQL: transitions, fences, release. */
describe('ConnectionState: the one writer of connections.status', () => {
  let close: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let state: ConnectionState;
  let repo: ConnectionsRepository;
  let tenantId: string;
  const tenantExternalId = `T${randomUUID().slice(0, 8)}`;
  /** One permanent failure, as the refresher's group commit writes it (a missing row lost its fence). */
  const markBroken = async (id: string, owner: string, version: number, status: BrokenStatus, error: LastError) =>
    (await state.markBrokenMany(owner, [{ id, version, status, error }]))[0];

  beforeAll(async () => {
    ({ ds, close } = await createMigratedDataSource());
    state = new ConnectionState(ds, new EventLog(new DeliveryHandoff(ds)));
    repo = new ConnectionsRepository(ds);
    const made: { id: string }[] = await ds.query(`INSERT INTO tenants (platform, external_id, name) VALUES ('slack', $1, 'State') RETURNING id`, [tenantExternalId]);
    tenantId = made[0].id;
  });
  afterAll(async () => {
    await close?.();
  });

  const read = async (id: string): Promise<ConnectionRow> => {
    const row = await repo.findById(id, 'all');
    if (!row) throw new Error(`no connection ${id}`);
    return row;
  };

  /** A new connection, brought to `status` through the state module's own writes. */
  async function connection(status: ConnectionStatus = 'active'): Promise<ConnectionRow> {
    const id = randomUUID();
    const row = await state.create(ds, { id, tenantId, platform: 'slack', tenantExternalId, userExternalId: `U${id.slice(0, 8)}`, ...tokens(id) });
    if (status === 'active') return row;
    if (status === 'revoked') return (await state.revoke(id, 'all')) ?? read(id);
    const owner = `setup:${id}`;
    const claimed = await repo.claim(id, owner, LEASE_MS);
    if (!claimed) throw new Error('setup claim failed');
    const broken = status === 'blocked' ? failure('conditional_access_blocked', 'admin') : failure('grant_revoked', 'user');
    return (await markBroken(id, owner, claimed.version, status, broken)) ?? read(id);
  }

  /** An admin incident as heal leaves it when it releases its rows: resolved (so any number may exist). */
  async function incident(condition: Condition = 'conditional_access_blocked'): Promise<string> {
    const made: { id: string }[] = await ds.query(
      `INSERT INTO incidents (tenant_id, platform, condition, audience, detected_at, status, resolved_at)
       VALUES ($1, 'slack', $2, 'admin', now(), 'resolved', now()) RETURNING id`,
      [tenantId, condition],
    );
    return made[0].id;
  }

  const attach = (incidentId: string, connectionId: string) => ds.transaction((m) => state.attachIncidents(m, [{ incidentId, connectionId }]));

  /**
   * Every write of the module, tried on a row in `from` through the gate production uses
   * (the lease from `claim` for the refresh writes, an attached incident for the release).
   * `created` takes no existing row: its own test below.
   */
  const attempts: Record<Exclude<Transition, 'created'>, (row: ConnectionRow) => Promise<unknown>> = {
    reconnected: (row) => ds.transaction((m) => state.reconnect(m, row.id, tokens('again'))),
    refreshed: async (row) => {
      const owner = `try:${row.id}`;
      const claimed = (await repo.claim(row.id, owner, LEASE_MS, 'active')) ?? (await repo.claim(row.id, owner, LEASE_MS, 'blocked'));
      if (claimed) await state.commitRefreshes(owner, [{ id: row.id, version: claimed.version, write: tokens('refreshed') }]);
    },
    broken: async (row) => {
      const owner = `try:${row.id}`;
      const claimed = (await repo.claim(row.id, owner, LEASE_MS, 'active')) ?? (await repo.claim(row.id, owner, LEASE_MS, 'blocked'));
      if (claimed) await markBroken(row.id, owner, claimed.version, 'needs_reauth', failure('grant_revoked', 'user'));
    },
    drifted: (row) => state.markDrift(row.id, row.version, failure('consent_required', 'admin')),
    released: async (row) => {
      const id = await incident();
      await attach(id, row.id);
      await ds.transaction((m) => state.releaseBlocked(m, id));
    },
    revoked: (row) => state.revoke(row.id, 'all'),
  };

  it.each(Object.keys(attempts) as Exclude<Transition, 'created'>[])(
    '%s: takes a row only from the statuses TRANSITIONS lists, always, and only to a status it lists',
    async (transition) => {
      const { from, to } = TRANSITIONS[transition];
      for (const status of STATUSES) {
        const row = await connection(status);
        expect(row.status).toBe(status);
        await attempts[transition](row);
        const after = await read(row.id);
        if ((from as readonly string[]).includes(status)) {
          expect((to as readonly string[]).includes(after.status), `${transition} from ${status} left ${after.status}`).toBe(true);
          expect(after.version).toBeGreaterThan(row.version);
        } else {
          expect(after.status, `${transition} from ${status}`).toBe(status);
        }
      }
    },
  );

  it('created: a new natural key is active; a second first connect of the same key is refused by the constraint', async () => {
    const row = await connection();
    expect(row).toMatchObject({ status: 'active', condition: null, incidentId: null, version: 1, failureCount: 0 });
    const again = state.create(ds, { id: randomUUID(), tenantId, platform: 'slack', tenantExternalId, userExternalId: row.userExternalId, ...tokens('twin') });
    await expect(again).rejects.toMatchObject({ driverError: { code: '23505', constraint: 'connections_natural_key' } });
  });

  it('reconnected: the same id is active again from any status, its incident, lease and errors cleared', async () => {
    for (const status of STATUSES) {
      const row = await connection(status);
      await attach(await incident(), row.id);
      const again = await ds.transaction((m) => state.reconnect(m, row.id, tokens(`re-${status}`)));
      expect(again).toMatchObject({ id: row.id, status: 'active', condition: null, incidentId: null, lastError: null, leaseOwner: null, refreshCutoff: false });
      expect(again.version).toBe(row.version + 1);
      expect(again.accessToken?.toString()).toBe(`at-re-${status}`);
    }
  });

  it('refreshed: only the lease holder, only over the version it read, can commit', async () => {
    const [mine, stale, foreign] = [await connection(), await connection(), await connection()];
    const owner = 'state-test:commit';
    const claims = [await repo.claim(mine.id, owner, LEASE_MS), await repo.claim(stale.id, owner, LEASE_MS), await repo.claim(foreign.id, 'someone-else', LEASE_MS)];
    const [a, b, c] = claims.map((r) => {
      if (!r) throw new Error('claim failed');
      return r;
    });
    // A re-sync moved `stale` on after the claim: the refresher's version is old.
    await ds.transaction((m) => state.reconnect(m, stale.id, tokens('resync')));
    await repo.claim(stale.id, owner, LEASE_MS);
    const written = await state.commitRefreshes(owner, [
      { id: a.id, version: a.version, write: tokens('new-a') },
      { id: b.id, version: b.version, write: tokens('new-b') },
      { id: c.id, version: c.version, write: tokens('new-c') },
    ]);
    expect(written.map((r) => r.id)).toEqual([a.id]);
    expect(written[0]).toMatchObject({ status: 'active', leaseOwner: null, version: a.version + 1 });
    expect((await read(stale.id)).accessToken?.toString()).toBe('at-resync');
    expect(await read(foreign.id)).toMatchObject({ leaseOwner: 'someone-else', version: c.version });
    expect((await read(foreign.id)).accessToken?.toString()).toBe(`at-${foreign.id}`);
  });

  it('broken: user audience → needs_reauth, admin audience → blocked; a stale version or a foreign lease writes nothing', async () => {
    const owner = 'state-test:broken';
    const user = await repo.claim((await connection()).id, owner, LEASE_MS);
    const admin = await repo.claim((await connection()).id, owner, LEASE_MS);
    if (!user || !admin) throw new Error('claim failed');
    expect(await markBroken(user.id, owner, user.version, 'needs_reauth', failure('grant_revoked', 'user'))).toMatchObject({
      status: 'needs_reauth',
      condition: 'grant_revoked',
      nextRefreshAt: null,
      leaseOwner: null,
    });
    expect(await markBroken(admin.id, owner, admin.version, 'blocked', failure('app_disabled', 'admin'))).toMatchObject({ status: 'blocked', condition: 'app_disabled' });

    const held = await repo.claim((await connection()).id, owner, LEASE_MS);
    if (!held) throw new Error('claim failed');
    expect(await markBroken(held.id, owner, held.version - 1, 'needs_reauth', failure('grant_revoked', 'user'))).toBeUndefined();
    expect(await markBroken(held.id, 'someone-else', held.version, 'needs_reauth', failure('grant_revoked', 'user'))).toBeUndefined();
    expect(await read(held.id)).toMatchObject({ status: 'active', condition: null, leaseOwner: owner, version: held.version });
  });

  it('drifted: only an active row at the version just written becomes blocked consent_required', async () => {
    const row = await connection();
    expect(await state.markDrift(row.id, row.version + 1, failure('consent_required', 'admin'))).toBeUndefined();
    expect((await read(row.id)).status).toBe('active');
    expect(await state.markDrift(row.id, row.version, failure('consent_required', 'admin'))).toMatchObject({
      status: 'blocked',
      condition: 'consent_required',
      version: row.version + 1,
    });
  });

  it('revoked is final: shredded once, and no refresh, heal or drift write moves it again', async () => {
    const row = await connection();
    const inIncident = await incident();
    await attach(inIncident, row.id);
    // A refresher holds the lease when the client deletes the connection.
    const late = await repo.claim(row.id, 'late', LEASE_MS);
    if (!late) throw new Error('claim failed');
    expect(await state.revoke(row.id, [randomUUID()])).toBeUndefined(); // another tenant's scope
    const revoked = await state.revoke(row.id, [tenantId]);
    expect(revoked).toMatchObject({ status: 'revoked', accessToken: null, refreshToken: null, nextRefreshAt: null, leaseOwner: null });
    if (!revoked) throw new Error('not revoked');
    expect(await state.revoke(row.id, 'all')).toBeUndefined();
    // The refresher's answer arrives after the revoke: its lease and its version are both gone.
    expect(await state.commitRefreshes('late', [{ id: row.id, version: late.version, write: tokens('late') }])).toEqual([]);
    expect(await markBroken(row.id, 'late', late.version, 'blocked', failure('app_disabled', 'admin'))).toBeUndefined();
    expect(await repo.claim(row.id, 'later', LEASE_MS, 'active')).toBeUndefined();
    expect(await repo.claim(row.id, 'later', LEASE_MS, 'blocked')).toBeUndefined();
    expect(await state.markDrift(row.id, revoked.version, failure('consent_required', 'admin'))).toBeUndefined();
    await ds.transaction((m) => state.releaseBlocked(m, inIncident));
    const after = await read(row.id);
    expect(after).toMatchObject({ status: 'revoked', accessToken: null, refreshToken: null });
  });

  it('releaseBlocked touches only the rows of its incident, and makes only the blocked ones active and due', async () => {
    const mine = await incident();
    const other = await incident('app_disabled');
    const [b1, b2, moved, elsewhere] = [await connection('blocked'), await connection('blocked'), await connection('needs_reauth'), await connection('blocked')];
    for (const r of [b1, b2, moved]) await attach(mine, r.id);
    await attach(other, elsewhere.id);
    const before = await read(elsewhere.id);

    expect(await ds.transaction((m) => state.releaseBlocked(m, mine))).toBe(3);
    for (const r of [b1, b2]) {
      const after = await read(r.id);
      expect(after).toMatchObject({ status: 'active', condition: null, incidentId: null, lastError: null, failureCount: 0, version: r.version + 1 });
      expect(after.nextRefreshAt?.getTime()).toBeLessThanOrEqual(Date.now());
    }
    expect(await read(moved.id)).toMatchObject({ status: 'needs_reauth', condition: 'grant_revoked', incidentId: null, nextRefreshAt: null });
    expect(await read(elsewhere.id)).toEqual(before);
    expect(before).toMatchObject({ status: 'blocked', incidentId: other });
  });

  it('writes in the caller’s transaction: a rolled-back release or attach leaves the rows as they were', async () => {
    const id = await incident();
    const row = await connection('blocked');
    const boom = new Error('rolled back');
    await expect(
      ds.transaction(async (m) => {
        await state.attachIncidents(m, [{ incidentId: id, connectionId: row.id }]);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await read(row.id)).incidentId).toBeNull();
    expect(await ds.query(`SELECT count(*)::int AS n FROM incident_connections WHERE connection_id = $1`, [row.id])).toEqual([{ n: 0 }]);

    await attach(id, row.id);
    await attach(id, row.id); // joining twice is one membership
    expect(await ds.query(`SELECT count(*)::int AS n FROM incident_connections WHERE connection_id = $1`, [row.id])).toEqual([{ n: 1 }]);
    await expect(
      ds.transaction(async (m) => {
        expect(await state.releaseBlocked(m, id)).toBe(1);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await read(row.id)).toMatchObject({ status: 'blocked', incidentId: id });
  });
});
