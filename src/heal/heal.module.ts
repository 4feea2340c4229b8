import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionsModule } from '../connections/connections.module';
import { TenantEntity } from '../tenants/tenant.entity';
import { TenantsModule } from '../tenants/tenants.module';
import { HealMetrics } from './heal.metrics';
import { HealScheduler } from './heal.scheduler';
import { HealService } from './heal.service';
import { IncidentsController } from './incidents.controller';
import { IncidentsRepository } from './incidents.repository';
import { OutboxDoorbell } from './outbox-doorbell';
import { OutboxRepository } from './outbox.repository';
import { OutboxWorker } from './outbox.worker';
import { EventLogModule } from '../events/event-log.module';

@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity]), ConnectionsModule, TenantsModule, EventLogModule],
  controllers: [IncidentsController],
  providers: [HealMetrics, HealScheduler, HealService, IncidentsRepository, OutboxDoorbell, OutboxRepository, OutboxWorker],
  exports: [HealService, OutboxWorker, IncidentsRepository],
})
export class HealModule {}
