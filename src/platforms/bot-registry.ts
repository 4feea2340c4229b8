import { Injectable } from '@nestjs/common';
import type { Platform } from '../config/app-config';
import type { BotSender } from './platform';

/** The bot senders, one per platform. Filled in by PlatformsModule. */
@Injectable()
export class BotSenders {
  private readonly byPlatform = new Map<Platform, BotSender>();

  constructor(senders: BotSender[]) {
    for (const s of senders) this.byPlatform.set(s.platform, s);
  }

  get(platform: Platform): BotSender | undefined {
    return this.byPlatform.get(platform);
  }
}
