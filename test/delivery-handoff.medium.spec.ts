import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ClaimedDelivery, DeliveryHandoff, DeliveryTaker } from '../src/events/delivery-handoff';
import { EventLog } from '../src/events/event-log';
import { createMigratedDataSource } from './support/database';

/** A delivery worker as the hand-off sees it, recording what it is given. */
class RecordingTaker implements DeliveryTaker {
  readonly owner = `test:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly leaseMs = 40_000;
  readonly taken: ClaimedDelivery[] = [];
  readonly released: ClaimedDelivery[] = [];
  take(d: ClaimedDelivery[]): void {
    this.taken.push(...d);
  }
  release(d: ClaimedDelivery[]): void {
    this.released.push(...d);
  }
}

/**
 * The hand-off of committed deliveries to this process's worker, on a real PostgreSQL: only
 * after the commit, leased to the worker in the outbox meanwhile, never for a rollback.
 */
describe('DeliveryHandoff: deliveries reach the local worker when their transaction commits', () => {
  let close: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let handoff: DeliveryHandoff;
  let log: EventLog;
  let tenantId: string;
  let endpointId: string;

  beforeAll(async () => {
    ({ ds, close } = await createMigratedDataSource());
    handoff = new DeliveryHandoff(ds);
    log = new EventLog(handoff);
    tenantId = (await ds.query(`INSERT INTO tenants (platform, external_id, name) VALUES ('slack', $1, 'Handoff') RETURNING id`, [`T${randomUUID().slice(0, 8)}`]))[0].id;
    endpointId = randomUUID();
    await ds.query(`INSERT INTO webhook_endpoints (id, url, events, secret, vault_key_id) VALUES ($1, 'https://relay.example/hooks', '{*}', '\\x00', 'k1')`, [endpointId]);
  });
  afterAll(async () => {
    await close?.();
  });

  const event = (n: number) => ({ type: 'connection.broken' as const, tenantId, data: { n } });
  const outbox = async (eventIds: string[]) =>
    ds.query<{ event_id: string; lease_owner: string | null; leased: boolean }[]>(
      `SELECT event_id, lease_owner, next_attempt_at > now() + interval '30 seconds' AS leased FROM webhook_deliveries WHERE event_id = ANY($1) ORDER BY event_id`,
      [eventIds],
    );

  it('after the commit, not before: the worker gets each delivery with its event, already leased to it in the outbox', async () => {
    const taker = new RecordingTaker();
    handoff.attach(taker);
    try {
      await ds.transaction(async (m) => {
        await log.record(m, event(1), event(2));
        expect(taker.taken).toEqual([]); // still uncommitted
      });
      expect(taker.taken).toHaveLength(2);
      expect(taker.taken.map((d) => d.event.data)).toEqual([{ n: 1 }, { n: 2 }]);
      for (const d of taker.taken) {
        expect(d).toMatchObject({ endpointId, url: 'https://relay.example/hooks', event: { type: 'connection.broken', tenantId } });
        expect(d.leaseEndsAt).toBeGreaterThan(Date.now() + 30_000);
      }
      const rows = await outbox(taker.taken.map((d) => d.event.id));
      expect(rows.map((r) => [r.lease_owner, r.leased])).toEqual([
        [taker.owner, true],
        [taker.owner, true],
      ]);
      expect(taker.released).toEqual([]);
    } finally {
      handoff.detach(taker);
    }
  });

  it('a rolled-back transaction hands over nothing and leaves nothing in the outbox', async () => {
    const taker = new RecordingTaker();
    handoff.attach(taker);
    let ids: string[] = [];
    try {
      await expect(
        ds.transaction(async (m) => {
          await log.record(m, event(3));
          ids = (await m.query(`SELECT id FROM events WHERE data->>'n' = '3'`)).map((r: { id: string }) => r.id);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(ids).toHaveLength(1);
      expect(taker.taken).toEqual([]);
      expect(taker.released).toEqual([]);
      expect(await outbox(ids)).toEqual([]);
    } finally {
      handoff.detach(taker);
    }
  });

  it('a savepoint rolled back after a delivery was queued: on commit the worker hands those leases back instead of sending', async () => {
    const taker = new RecordingTaker();
    handoff.attach(taker);
    try {
      await ds.transaction(async (m) => {
        await log.record(m, event(4));
        await expect(
          m.transaction(async (sp) => {
            await log.record(sp, event(5));
            throw new Error('undone to the savepoint');
          }),
        ).rejects.toThrow('undone');
      });
      expect(taker.taken).toEqual([]);
      expect(taker.released.map((d) => d.event.data)).toEqual([{ n: 4 }, { n: 5 }]);
    } finally {
      handoff.detach(taker);
    }
  });

  it('with no worker in this process the delivery is due at once for any claim', async () => {
    await ds.transaction((m) => log.record(m, event(6)));
    const [id] = (await ds.query(`SELECT id FROM events WHERE data->>'n' = '6'`)).map((r: { id: string }) => r.id);
    const rows = await ds.query(`SELECT lease_owner, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE event_id = $1`, [id]);
    expect(rows).toEqual([{ lease_owner: null, due: true }]);
  });
});
