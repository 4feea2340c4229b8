import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantEntity } from '../tenants/tenant.entity';
import { ApiClientEntity } from './api-client.entity';
import { ApiClientsController } from './api-clients.controller';
import { ApiClientsRepository } from './api-clients.repository';
import { ApiClientsService } from './api-clients.service';

@Module({
  imports: [TypeOrmModule.forFeature([ApiClientEntity, TenantEntity])],
  controllers: [ApiClientsController],
  providers: [ApiClientsService, ApiClientsRepository],
  exports: [ApiClientsService],
})
export class ApiClientsModule {}
