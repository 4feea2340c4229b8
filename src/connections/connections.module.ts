import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReadinessService } from '../observability/readiness.service';
import { TenantEntity } from '../tenants/tenant.entity';
import { AuditLog } from './audit-log';
import { ClientHealth } from './client-health';
import { ConnectionEvents } from './connection-events';
import { ScopeDrift } from './scope-drift';
import { ConnectController } from './connect.controller';
import { ConnectLinksPruner } from './connect-links-pruner';
import { ConnectLinksRepository } from './connect-links.repository';
import { ConnectLinksService } from './connect-links.service';
import { ConnectionsController } from './connections.controller';
import { ConnectionsMetrics } from './connections.metrics';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { OAuthFlowService } from './oauth-flow.service';
import { PlatformsController } from './platforms.controller';
import { RefreshSweep } from './refresh-sweep';
import { Refresher } from './refresher';
import { TokenSealer } from './token-sealer';
import { TokenService } from './token.service';

@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity])],
  controllers: [ConnectionsController, ConnectController, PlatformsController],
  providers: [
    AuditLog,
    ClientHealth,
    ConnectionEvents,
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
    TokenSealer,
    TokenService,
  ],
  exports: [ConnectLinksRepository, ConnectionEvents, ConnectionsRepository, ConnectionsService, ConnectLinksService, OAuthFlowService, Refresher, RefreshSweep, TokenService, AuditLog, ClientHealth, TokenSealer],
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
