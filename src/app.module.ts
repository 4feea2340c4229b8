import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionsModule } from './connections/connections.module';
import { EventsModule } from './events/events.module';
import { BoardModule } from './board/board.module';
import { HealModule } from './heal/heal.module';
import { PlatformsModule } from './platforms/platforms.module';
import { ApiClientsModule } from './api-clients/api-clients.module';
import { ApiKeyGuard } from './common/api-key.guard';
import { ProblemsController } from './common/problems.controller';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { ObservabilityModule } from './observability/observability.module';
import { TenantsModule } from './tenants/tenants.module';
import { VaultModule } from './vault/vault.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /** The whole service for one validated configuration and one database. */
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl), retryAttempts: 10, retryDelay: 1000 }),
        ObservabilityModule,
        VaultModule,
        ApiClientsModule,
        TenantsModule,
        ScheduleModule.forRoot(),
        EventsModule,
        PlatformsModule,
        ConnectionsModule,
        HealModule,
        WebhooksModule,
        BoardModule,
      ],
      controllers: [ProblemsController],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
    };
  }
}
