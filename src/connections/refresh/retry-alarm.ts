import { Injectable } from '@nestjs/common';

/**
 * Rung by the refresher when a transient failure schedules a retry; the sweep listens from its
 * constructor and wakes for it (SPEC §3: after an outage every due connection is refreshed within
 * 60 s of its end). A class of its own, so neither the refresher nor the sweep holds the other.
 */
@Injectable()
export class RetryAlarm {
  private readonly listeners: ((retryAt: Date) => void)[] = [];

  listen(listener: (retryAt: Date) => void): void {
    this.listeners.push(listener);
  }

  ring(retryAt: Date): void {
    for (const listener of this.listeners) listener(retryAt);
  }
}
