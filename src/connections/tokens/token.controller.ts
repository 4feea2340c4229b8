import { Body, Controller, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../../common/auth';
import { CurrentCaller } from '../../common/caller.decorator';
import { AccessTokenRequestDto, AccessTokenView, MinValidityPipe } from './token.dto';
import { TokenService } from './token.service';

/** The token API: what relays call on every message they relay. */
@ApiTags('connections')
@ApiBearerAuth()
@Controller('v1/connections')
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Post(':id/access-token')
  @HttpCode(200)
  @Roles('relay')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'A valid access token now; refreshes first when it has less than minValiditySeconds left' })
  @ApiOkResponse({ type: AccessTokenView })
  @ApiConflictResponse({ description: '/problems/reauth-required with condition, audience and incidentId' })
  @ApiServiceUnavailableResponse({ description: 'The platform is unavailable and the token has expired; see Retry-After' })
  @ApiBody({ type: AccessTokenRequestDto, required: false })
  accessToken(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(MinValidityPipe) minValiditySeconds: number): Promise<AccessTokenView> {
    return this.tokens.accessToken(caller, id, minValiditySeconds);
  }

  @Post(':id/invalidate')
  @HttpCode(200)
  @Roles('relay')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The current token was refused (401): refresh now and return the new one' })
  @ApiOkResponse({ type: AccessTokenView })
  invalidate(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<AccessTokenView> {
    return this.tokens.invalidate(caller, id);
  }
}
