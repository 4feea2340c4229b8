import { Module } from '@nestjs/common';
import { DeliveryHandoff } from './delivery-handoff';
import { EventLog } from './event-log';

/** The writer of SPEC §11's event log, for the modules that record into it (connections, heal). */
@Module({
  providers: [EventLog, DeliveryHandoff],
  exports: [EventLog, DeliveryHandoff],
})
export class EventLogModule {}
