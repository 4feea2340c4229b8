import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';

@Injectable()
export class HealMetrics {
  readonly opened: Counter<'platform' | 'condition' | 'audience'>;
  readonly resolved: Counter<'platform' | 'condition' | 'audience'>;
  readonly prompts: Counter<'platform' | 'kind' | 'outcome'>;
  readonly detectionToPrompt: Histogram<'platform' | 'audience'>;
  readonly timeToHeal: Histogram<'platform' | 'condition'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    const labels = ['platform', 'condition', 'audience'] as const;
    this.opened = new Counter({ name: 'autoheal_incidents_opened_total', help: 'Incidents opened', labelNames: labels, registers });
    this.resolved = new Counter({ name: 'autoheal_incidents_resolved_total', help: 'Incidents resolved', labelNames: labels, registers });
    this.prompts = new Counter({
      name: 'autoheal_prompts_total',
      help: 'Prompt deliveries by outcome (sent, retry, failed, skipped)',
      labelNames: ['platform', 'kind', 'outcome'],
      registers,
    });
    this.detectionToPrompt = new Histogram({
      name: 'autoheal_detection_to_prompt_seconds',
      help: 'From the failure detected to the first prompt sent',
      labelNames: ['platform', 'audience'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.timeToHeal = new Histogram({
      name: 'autoheal_time_to_heal_seconds',
      help: 'From detection to resolution',
      labelNames: ['platform', 'condition'],
      buckets: [60, 300, 900, 3600, 14400, 86400, 259200, 604800],
      registers,
    });
  }
}
