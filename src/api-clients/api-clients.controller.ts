import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { ApiClientListView, CreateApiClientDto, CreatedApiClientDto, ListApiClientsQuery } from './api-clients.dto';
import { ApiClientsService } from './api-clients.service';

@ApiTags('api-clients')
@ApiBearerAuth()
@Controller('v1/api-clients')
@Roles('admin')
export class ApiClientsController {
  constructor(private readonly service: ApiClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key; the key is shown once. A tenant-scoped admin key grants only a subset of its own tenants.' })
  @ApiCreatedResponse({ type: CreatedApiClientDto })
  @ApiForbiddenResponse({ description: '/problems/scope-exceeded: the scope asked for is not inside the caller’s' })
  create(@CurrentCaller() caller: Caller, @Body() body: CreateApiClientDto): Promise<CreatedApiClientDto> {
    return this.service.create(caller, body);
  }

  @Get()
  @ApiOperation({ summary: 'List the keys whose scope lies inside the caller’s; never a key or its hash' })
  @ApiOkResponse({ type: ApiClientListView })
  list(@CurrentCaller() caller: Caller, @Query() query: ListApiClientsQuery): Promise<ApiClientListView> {
    return this.service.list(caller, query);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key inside the caller’s scope (others read as 404)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'Unknown, already revoked, or outside the caller’s scope' })
  async revoke(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.service.revoke(caller, id);
  }
}
