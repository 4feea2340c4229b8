import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReadinessService } from '../observability/readiness.service';
import { TenantEntity } from '../tenants/tenant.entity';
import { AuditLog } from './audit/audit-log';
import { ClientHealth } from './refresh/client-health';
import { ConnectionEvents } from './connection-events';
import { ConnectionState } from './connection-state';
import { ScopeDrift } from './refresh/scope-drift';
import { ConnectController } from './connect/connect.controller';
import { ConnectLinksPruner } from './connect/connect-links-pruner';
import { ConnectLinksRepository } from './connect/connect-links.repository';
import { ConnectLinksService } from './connect/connect-links.service';
import { ConnectionsController } from './connections.controller';
import { ConnectionsMetrics } from './connections.metrics';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { OAuthFlowService } from './connect/oauth-flow.service';
import { PlatformsController } from './platforms.controller';
import { RefreshSweep } from './refresh/refresh-sweep';
import { Refresher } from './refresh/refresher';
import { RetryAlarm } from './refresh/retry-alarm';
import { TokenSealer } from './token-sealer';
import { TokenController } from './tokens/token.controller';
import { TokenService } from './tokens/token.service';
import { EventLogModule } from '../events/event-log.module';

@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity]), EventLogModule],
  controllers: [ConnectionsController, TokenController, ConnectController, PlatformsController],
  providers: [
    AuditLog,
    ClientHealth,
    ConnectionEvents,
    ConnectionState,
    ScopeDrift,
    ConnectLinksPruner,
    ConnectLinksRepository,
    ConnectLinksService,
    ConnectionsMetrics,
    ConnectionsRepository,
    ConnectionsService,
    OAuthFlowService,
    RefreshSweep,
    Refresher,
    RetryAlarm,
    TokenSealer,
    TokenService,
  ],
  exports: [
    ConnectLinksRepository,
    ConnectionEvents,
    ConnectionState,
    ConnectionsRepository,
    ConnectionsService,
    ConnectLinksService,
    OAuthFlowService,
    Refresher,
    RefreshSweep,
    TokenService,
    AuditLog,
    ClientHealth,
    TokenSealer,
  ],
})
export class ConnectionsModule implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly clients: ClientHealth,
  ) {}

  onModuleInit(): void {
    this.readiness.register(this.clients);
  }
}
