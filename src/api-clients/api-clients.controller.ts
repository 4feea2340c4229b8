import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { CreateApiClientDto, CreatedApiClientDto } from './api-clients.dto';
import { ApiClientsService } from './api-clients.service';

@ApiTags('api-clients')
@ApiBearerAuth()
@Controller('v1/api-clients')
@Roles('admin')
export class ApiClientsController {
  constructor(private readonly service: ApiClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key; the key is shown once' })
  @ApiCreatedResponse({ type: CreatedApiClientDto })
  create(@Body() body: CreateApiClientDto): Promise<CreatedApiClientDto> {
    return this.service.create(body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse()
  async revoke(@Param('id') id: string): Promise<void> {
    await this.service.revoke(id);
  }
}
