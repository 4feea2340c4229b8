import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventLogModule } from '../events/event-log.module';
import { TenantEntity } from '../tenants/tenant.entity';
import { DeliveriesController } from './delivery/deliveries.controller';
import { DeliveriesRepository } from './delivery/deliveries.repository';
import { DeliveryMetrics } from './delivery/delivery.metrics';
import { DeliveryWorker } from './delivery/delivery.worker';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookEndpointsService } from './webhook-endpoints.service';

/** SPEC §11 webhooks: endpoint subscriptions, and delivery of the event log through its outbox. */
@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity]), EventLogModule],
  controllers: [WebhookEndpointsController, DeliveriesController],
  providers: [WebhookEndpointsService, WebhookEndpointsRepository, DeliveriesRepository, DeliveryMetrics, DeliveryWorker],
  exports: [WebhookEndpointsService, DeliveriesRepository],
})
export class WebhooksModule {}
