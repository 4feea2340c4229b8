import { Injectable } from '@nestjs/common';

/**
 * Rung by heal once prompts are committed to the outbox; the outbox worker listens from its
 * constructor and drains at once instead of at its next poll. A class of its own, so heal needs
 * nothing of the worker (which needs heal's repositories).
 */
@Injectable()
export class OutboxDoorbell {
  private readonly listeners: (() => void)[] = [];

  listen(listener: () => void): void {
    this.listeners.push(listener);
  }

  ring(): void {
    for (const listener of this.listeners) listener();
  }
}
