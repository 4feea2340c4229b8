import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { EventRow } from './events.repository';

/** A delivery to send: the endpoint's URL and secrets' version, and the event. */
export interface ClaimedDelivery {
  endpointId: string;
  url: string;
  /** Changes with every rotate-secret or PATCH: the key of the worker's secret cache. */
  endpointVersion: string;
  event: Omit<EventRow, 'at'>;
  /** When the lease may end, by this process's clock (taken before the statement that set it). */
  leaseEndsAt: number;
}

/** The local delivery worker, as the hand-off sees it. */
export interface DeliveryTaker {
  /** The lease the outbox rows are written with, so no other claim takes them meanwhile. */
  readonly owner: string;
  readonly leaseMs: number;
  /** Committed deliveries leased to `owner`: the taker sends them, or hands their leases back. */
  take(deliveries: ClaimedDelivery[]): void;
  /** Committed deliveries it must not send as they are (a savepoint rolled back): hand their leases back. */
  release(deliveries: ClaimedDelivery[]): void;
}

interface Pending {
  deliveries: ClaimedDelivery[];
  /** A savepoint rolled back after some were queued: which of them still exist is unknown. */
  uncertain: boolean;
}

/**
 * Hands the deliveries an event queues to this process's delivery worker once the transaction
 * that wrote them commits, leased to it from the start: the worker sends them without claiming
 * them first (the claim was the dearest statement of a heal storm). Only on commit: an event
 * that rolled back is never handed over. A crash between commit and hand-off loses nothing:
 * the rows are in the outbox, leased, and the lease ends (or a restart takes it back).
 */
@Injectable()
export class DeliveryHandoff implements EntitySubscriberInterface {
  private taker?: DeliveryTaker;
  private readonly pending = new WeakMap<QueryRunner, Pending>();

  constructor(db: DataSource) {
    db.subscribers.push(this);
  }

  attach(taker: DeliveryTaker): void {
    this.taker = taker;
  }

  detach(taker: DeliveryTaker): void {
    if (this.taker === taker) this.taker = undefined;
  }

  /** The lease new outbox rows get: this process's worker's, or none (any claim takes them). */
  lease(): { owner: string; leaseMs: number } | undefined {
    return this.taker && { owner: this.taker.owner, leaseMs: this.taker.leaseMs };
  }

  /** Deliveries written through `m`: handed over when its transaction commits (now, outside one). */
  queued(m: EntityManager, deliveries: ClaimedDelivery[]): void {
    if (deliveries.length === 0) return;
    const runner = m.queryRunner;
    if (!runner?.isTransactionActive) return this.taker?.take(deliveries);
    const pending = this.pending.get(runner);
    if (pending) pending.deliveries.push(...deliveries);
    else this.pending.set(runner, { deliveries, uncertain: false });
  }

  afterTransactionCommit(e: TransactionCommitEvent): void {
    if (!e.queryRunner || e.queryRunner.isTransactionActive) return; // a savepoint released: the transaction goes on
    const pending = this.pending.get(e.queryRunner);
    if (!pending) return;
    this.pending.delete(e.queryRunner);
    if (pending.uncertain) this.taker?.release(pending.deliveries);
    else this.taker?.take(pending.deliveries);
  }

  afterTransactionRollback(e: TransactionRollbackEvent): void {
    if (!e.queryRunner) return;
    const pending = this.pending.get(e.queryRunner);
    if (!pending) return;
    if (e.queryRunner.isTransactionActive) pending.uncertain = true;
    else this.pending.delete(e.queryRunner);
  }
}
