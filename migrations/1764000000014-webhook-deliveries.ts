import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §11 delivery: the outbox of (endpoint, event) pairs. A row is written in the transaction
 * that records its event (src/events/event-log.ts), so a committed event is always queued and a
 * rolled-back one never is. `next_attempt_at` is when a pending row is due; a worker that claims
 * a row pushes it forward by a lease (`lease_owner`, host:pid:random), so a crash mid-delivery
 * leaves it due again: at once when the dead process was on this host, else when the lease ends. Deleted with
 * its event (30 days) or its endpoint. `failing_since` on the endpoint is the first failure
 * after its last success: 5 days of that disables it.
 */
export class WebhookDeliveries1764000000014 implements MigrationInterface {
  name = 'WebhookDeliveries1764000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_deliveries (
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id text NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz DEFAULT now(),
        lease_owner text,
        last_attempt_at timestamptz,
        last_status_code int,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (endpoint_id, event_id),
        CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_listed ON webhook_deliveries (endpoint_id, created_at DESC, event_id DESC)`);
    await q.query(`CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)`);
    await q.query(`ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN failing_since`);
    await q.query(`DROP TABLE webhook_deliveries`);
  }
}
