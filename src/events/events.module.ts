import { Module } from '@nestjs/common';
import { EventsPruner } from './events-pruner';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';

/** SPEC §11's event log as the API reads it, and its 30-day retention. EventLogModule writes it. */
@Module({
  controllers: [EventsController],
  providers: [EventsPruner, EventsRepository],
})
export class EventsModule {}
