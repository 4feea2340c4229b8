import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../../observability/metrics.service';

/** SPEC §11 delivery metrics. */
@Injectable()
export class DeliveryMetrics {
  /** `delivered`, `retry` (an attempt failed, another is due) or `failed` (the schedule is spent). */
  readonly deliveries: Counter<'outcome'>;
  /** From the event's commit to its delivery (a replay counts from the event, too). */
  readonly lag: Histogram;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({
      name: 'autoheal_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.lag = new Histogram({
      name: 'autoheal_webhook_delivery_lag_seconds',
      help: 'From the event recorded to its webhook delivered',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 7200, 36000, 136800],
      registers,
    });
  }
}
