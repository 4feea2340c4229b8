import { Body, Controller, Delete, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { AuditListView, AuditQuery, ConnectionListView, ConnectionView, ImportConnectionDto, ListConnectionsQuery } from './connections.dto';
import { ConnectionsService } from './connections.service';

@ApiTags('connections')
@ApiBearerAuth()
@Controller('v1/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get()
  @Roles('relay', 'admin')
  @ApiOperation({ summary: 'List connections, or look one up by its natural key (platform, tenantExternalId, userExternalId)' })
  @ApiOkResponse({ type: ConnectionListView })
  list(@CurrentCaller() caller: Caller, @Query() query: ListConnectionsQuery): Promise<ConnectionListView> {
    return this.connections.list(caller, query);
  }

  @Get(':id')
  @Roles('relay', 'admin')
  @ApiOkResponse({ type: ConnectionView })
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<ConnectionView> {
    return this.connections.get(caller, id);
  }

  @Get(':id/audit')
  @Roles('admin')
  @ApiOperation({ summary: 'The audit trail of a connection: token reads, refreshes, connects, imports, revokes (never a token), newest first' })
  @ApiOkResponse({ type: AuditListView })
  auditTrail(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() query: AuditQuery): Promise<AuditListView> {
    return this.connections.auditTrail(caller, id, query);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Import existing tokens (migration); an existing natural key has its tokens replaced (200)' })
  @ApiCreatedResponse({ type: ConnectionView })
  async import(@CurrentCaller() caller: Caller, @Body() body: ImportConnectionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ConnectionView> {
    const { created, view } = await this.connections.import(caller, body);
    reply.status(created ? 201 : 200);
    return view;
  }

  @Delete(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Revoke upstream where possible, crypto-shred the tokens, status revoked' })
  @ApiOkResponse({ type: ConnectionView })
  revoke(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<ConnectionView> {
    return this.connections.revoke(caller, id);
  }
}
