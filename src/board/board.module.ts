import { Module } from '@nestjs/common';
import { ApiClientsModule } from '../api-clients/api-clients.module';
import { ConnectionsModule } from '../connections/connections.module';
import { HealModule } from '../heal/heal.module';
import { TenantsModule } from '../tenants/tenants.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { BoardController } from './board.controller';
import { BoardQueries } from './board-queries';
import { BoardSessions } from './board-sessions';

/** SPEC §12: the admin board, in the same process, under /board. */
@Module({
  imports: [ApiClientsModule, ConnectionsModule, HealModule, TenantsModule, WebhooksModule],
  controllers: [BoardController],
  providers: [BoardQueries, BoardSessions],
})
export class BoardModule {}
