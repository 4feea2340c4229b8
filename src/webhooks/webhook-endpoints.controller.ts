import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import {
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  ListWebhookEndpointsQuery,
  RotatedSecretDto,
  UpdateWebhookEndpointDto,
  WebhookEndpointListView,
  WebhookEndpointView,
} from './webhook-endpoints.dto';
import { WebhookEndpointsService } from './webhook-endpoints.service';

const OUTSIDE = 'Unknown, or outside the caller’s scope';
const BAD_URL = '/problems/validation-failed: the body is invalid, or `url` breaks a rule of SPEC §11 (checked after DNS)';
const SCOPE = '/problems/scope-exceeded: tenantIds asks for `*` or tenants outside the caller’s scope';

@ApiTags('webhook-endpoints')
@ApiBearerAuth()
@Controller('v1/webhook-endpoints')
@Roles('admin')
export class WebhookEndpointsController {
  constructor(private readonly service: WebhookEndpointsService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe an endpoint to events (SPEC §11); the signing secret is shown once' })
  @ApiCreatedResponse({ type: CreatedWebhookEndpointDto })
  @ApiBadRequestResponse({ description: BAD_URL })
  @ApiForbiddenResponse({ description: SCOPE })
  create(@CurrentCaller() caller: Caller, @Body() body: CreateWebhookEndpointDto): Promise<CreatedWebhookEndpointDto> {
    return this.service.create(caller, body);
  }

  @Get()
  @ApiOperation({ summary: 'List the endpoints inside the caller’s scope; never a secret' })
  @ApiOkResponse({ type: WebhookEndpointListView })
  list(@CurrentCaller() caller: Caller, @Query() query: ListWebhookEndpointsQuery): Promise<WebhookEndpointListView> {
    return this.service.list(caller, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One endpoint inside the caller’s scope; never its secret' })
  @ApiOkResponse({ type: WebhookEndpointView })
  @ApiNotFoundResponse({ description: OUTSIDE })
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<WebhookEndpointView> {
    return this.service.get(caller, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change url, events, tenantIds, description or disabled' })
  @ApiOkResponse({ type: WebhookEndpointView })
  @ApiBadRequestResponse({ description: BAD_URL })
  @ApiForbiddenResponse({ description: SCOPE })
  @ApiNotFoundResponse({ description: OUTSIDE })
  update(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: UpdateWebhookEndpointDto): Promise<WebhookEndpointView> {
    return this.service.update(caller, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint inside the caller’s scope' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: OUTSIDE })
  async delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.service.delete(caller, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new signing secret, shown once; the previous one keeps signing for 24 h' })
  @ApiOkResponse({ type: RotatedSecretDto })
  @ApiNotFoundResponse({ description: OUTSIDE })
  rotateSecret(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<RotatedSecretDto> {
    return this.service.rotateSecret(caller, id);
  }
}
