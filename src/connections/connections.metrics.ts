import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';

/** Lifecycle metrics: refreshes, their latency, token reads and cache hits. */
@Injectable()
export class ConnectionsMetrics {
  readonly refreshes: Counter<'platform' | 'outcome'>;
  readonly refreshSeconds: Histogram<'platform'>;
  readonly inFlight: Gauge;
  readonly tokenReads: Counter<'outcome'>;
  readonly cacheHits: Counter;
  readonly cutoffs: Counter<'platform'>;
  readonly rotationLost: Counter<'platform'>;
  readonly unclassified: Counter<'platform' | 'code'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.refreshes = new Counter({ name: 'autoheal_refreshes_total', help: 'Upstream refreshes by platform and outcome', labelNames: ['platform', 'outcome'], registers });
    this.refreshSeconds = new Histogram({
      name: 'autoheal_refresh_duration_seconds',
      help: 'Upstream refresh latency',
      labelNames: ['platform'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.inFlight = new Gauge({ name: 'autoheal_refreshes_in_flight', help: 'Upstream refreshes in flight in this process', registers });
    this.tokenReads = new Counter({ name: 'autoheal_token_reads_total', help: 'Token calls by outcome', labelNames: ['outcome'], registers });
    this.cacheHits = new Counter({ name: 'autoheal_token_cache_hits_total', help: 'Token calls answered from the in-memory cache', registers });
    this.cutoffs = new Counter({ name: 'autoheal_refresh_cutoff_total', help: 'Refreshes cut off by a crash, found at start', labelNames: ['platform'], registers });
    this.rotationLost = new Counter({
      name: 'autoheal_refresh_rotation_lost_total',
      help: 'Cut-off refreshes whose refresh token was then refused',
      labelNames: ['platform'],
      registers,
    });
    this.unclassified = new Counter({
      name: 'autoheal_unclassified_failures_total',
      help: 'Permanent failures no table row matched, by raw code',
      labelNames: ['platform', 'code'],
      registers,
    });
  }
}
