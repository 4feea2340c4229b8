import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { CreateTenantDto, TenantView, UpdateTenantDto } from './tenants.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
@Roles('admin')
export class TenantsController {
  constructor(private readonly service: TenantsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a customer organisation on one platform' })
  @ApiCreatedResponse({ type: TenantView })
  create(@CurrentCaller() caller: Caller, @Body() body: CreateTenantDto): Promise<TenantView> {
    return this.service.create(caller, body);
  }

  @Get(':id')
  @ApiOkResponse({ type: TenantView })
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<TenantView> {
    return this.service.get(caller, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update the name, admins or bot settings' })
  @ApiOkResponse({ type: TenantView })
  update(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: UpdateTenantDto): Promise<TenantView> {
    return this.service.update(caller, id, body);
  }
}
