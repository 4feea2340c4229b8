import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ConnectionState, NewConnection } from '../src/connections/connection-state';
import { DeliveryHandoff } from '../src/events/delivery-handoff';
import { EventLog } from '../src/events/event-log';
import type { SealedSecret } from '../src/vault/secret';
import { createMigratedDataSource } from './support/database';

const sealed = (s: string) => Buffer.from(s) as SealedSecret;

/** SPEC §11 on a real PostgreSQL: an event commits with its change, or not at all. */
describe('EventLog: in the transaction of the change', () => {
  let close: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let state: ConnectionState;
  let tenantId: string;

  beforeAll(async () => {
    ({ ds, close } = await createMigratedDataSource());
    state = new ConnectionState(ds, new EventLog(new DeliveryHandoff(ds)));
    const made: { id: string }[] = await ds.query(`INSERT INTO tenants (platform, external_id, name) VALUES ('slack', $1, 'Events') RETURNING id`, [
      `T${randomUUID().slice(0, 8)}`,
    ]);
    tenantId = made[0].id;
  });
  afterAll(async () => {
    await close?.();
  });

  const fresh = (): NewConnection => {
    const id = randomUUID();
    return {
      id,
      tenantId,
      platform: 'slack',
      tenantExternalId: 'TEVENTS',
      userExternalId: `U${id.slice(0, 8)}`,
      accessToken: sealed(`at-${id}`),
      refreshToken: sealed(`rt-${id}`),
      vaultKeyId: 'k1',
      accessTokenExpiresAt: new Date(Date.now() + 3600_000),
      scopes: ['chat:write'],
      nextRefreshAt: new Date(Date.now() + 3000_000),
    };
  };
  const typesOf = async (connectionId: string) =>
    (await ds.query<{ type: string }[]>(`SELECT type FROM events WHERE connection_id = $1 ORDER BY sequence`, [connectionId])).map((r) => r.type);

  it('a transaction that fails after the write records neither the row nor its event', async () => {
    const row = fresh();
    await expect(
      ds.transaction(async (m) => {
        await state.create(m, row);
        expect(await m.query(`SELECT count(*)::int AS n FROM events WHERE connection_id = $1`, [row.id])).toEqual([{ n: 1 }]);
        throw new Error('the caller failed after the write');
      }),
    ).rejects.toThrow('the caller failed');
    expect(await ds.query(`SELECT count(*)::int AS n FROM connections WHERE id = $1`, [row.id])).toEqual([{ n: 0 }]);
    expect(await typesOf(row.id)).toEqual([]);
  });

  it('the events of one transaction all carry its top-level xid, those written under a savepoint too (the paging key of GET /v1/events)', async () => {
    const [outer, nested, undone] = [fresh(), fresh(), fresh()];
    const top = await ds.transaction(async (m) => {
      await state.create(m, outer);
      await m.transaction((sp) => state.create(sp, nested)); // TypeORM nests with SAVEPOINT … RELEASE
      await expect(
        m.transaction(async (sp) => {
          await state.create(sp, undone);
          throw new Error('rolled back to the savepoint');
        }),
      ).rejects.toThrow('rolled back');
      const [x] = await m.query(`SELECT pg_current_xact_id()::text AS xid`);
      return x.xid as string;
    });
    const rows = await ds.query(`SELECT connection_id AS "connectionId", xid::text AS "xid" FROM events WHERE connection_id = ANY($1) ORDER BY sequence`, [
      [outer.id, nested.id, undone.id],
    ]);
    expect(rows).toEqual([
      { connectionId: outer.id, xid: top },
      { connectionId: nested.id, xid: top },
    ]);
    const [later] = await ds.query(`SELECT pg_current_xact_id()::text AS xid`);
    expect(BigInt(later.xid)).toBeGreaterThan(BigInt(top));
  });

  it('a second first-connect that loses the unique fence records nothing; a revoke that loses its fence records nothing', async () => {
    const row = fresh();
    await state.create(ds, row);
    await expect(state.create(ds, { ...row, id: randomUUID() })).rejects.toThrow();
    expect((await state.revoke(row.id, [randomUUID()])) ?? 'fenced').toBe('fenced'); // another tenant's scope
    expect(await typesOf(row.id)).toEqual(['connection.created']);
    expect(await state.revoke(row.id, 'all')).toBeDefined();
    expect(await state.revoke(row.id, 'all')).toBeUndefined();
    expect(await typesOf(row.id)).toEqual(['connection.created', 'connection.revoked']);
  });

  it('a reconnect of a broken row is healed, of an active row is not; a released blocked row is healed', async () => {
    const row = fresh();
    await state.create(ds, row);
    const again = { ...row, accessToken: sealed('again'), refreshToken: sealed('again') };
    await ds.transaction((m) => state.reconnect(m, row.id, again));
    expect(await typesOf(row.id)).toEqual(['connection.created']);
    await ds.query(`UPDATE connections SET status = 'needs_reauth', condition = 'grant_revoked' WHERE id = $1`, [row.id]);
    await ds.transaction((m) => state.reconnect(m, row.id, again));
    expect(await typesOf(row.id)).toEqual(['connection.created', 'connection.healed']);

    const blocked = fresh();
    await state.create(ds, blocked);
    const incident: { id: string }[] = await ds.query(
      `INSERT INTO incidents (tenant_id, platform, condition, audience, detected_at, status) VALUES ($1, 'slack', 'admin_consent_revoked', 'admin', now(), 'resolved') RETURNING id`,
      [tenantId],
    );
    await ds.query(`UPDATE connections SET status = 'blocked', condition = 'admin_consent_revoked', incident_id = $2 WHERE id = $1`, [blocked.id, incident[0].id]);
    const probed = fresh(); // the probe's refresh made it active; it is still in the incident
    await state.create(ds, probed);
    await ds.query(`UPDATE connections SET incident_id = $2 WHERE id = $1`, [probed.id, incident[0].id]);
    const moved = fresh(); // moved on meanwhile to needs_reauth: leaves the incident, not healed
    await state.create(ds, moved);
    await ds.query(`UPDATE connections SET status = 'needs_reauth', condition = 'grant_revoked', incident_id = $2 WHERE id = $1`, [moved.id, incident[0].id]);
    expect(await ds.transaction((m) => state.releaseBlocked(m, incident[0].id))).toBe(3);
    expect(await typesOf(blocked.id)).toEqual(['connection.created', 'connection.healed']);
    expect(await typesOf(probed.id)).toEqual(['connection.created', 'connection.healed']);
    expect(await typesOf(moved.id)).toEqual(['connection.created']);
    const [healed] = await ds.query(`SELECT data FROM events WHERE connection_id = $1 AND type = 'connection.healed'`, [blocked.id]);
    expect(healed.data).toMatchObject({ connectionId: blocked.id, status: 'active', platform: 'slack' });
  });
});
