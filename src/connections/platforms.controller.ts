import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { BUILTIN_PLATFORMS, BuiltinPlatform, PLATFORM_NAME, Platform } from '../config/app-config';
import { OAuthProviders } from '../platforms/oauth-registry';
import { catalogOf } from '../platforms/scope-catalog';

class PlatformView {
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' }) platform!: Platform;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: [String] }) requiredScopes!: string[];
  @ApiProperty({ type: [String] }) botScopes!: string[];
  @ApiProperty({ description: 'How the platform is known: one of the four, or a PROVIDERS_FILE provider' }) kind!: 'builtin' | 'generic';
  @ApiProperty({ description: 'Who carries its prompts: its bot, or §11 events only (connection.broken with the re-sync url)' }) prompts!: 'bot' | 'events';
  @ApiProperty() displayName!: string;
}

class PlatformListView {
  @ApiProperty({ type: [PlatformView] }) items!: PlatformView[];
}

@ApiTags('platforms')
@ApiBearerAuth()
@Controller('v1/platforms')
export class PlatformsController {
  constructor(private readonly providers: OAuthProviders) {}

  @Get()
  @Roles('relay', 'admin')
  @ApiOkResponse({ type: PlatformListView })
  list(): PlatformListView {
    return {
      items: this.providers.all().map((p) => {
        const catalog = catalogOf(p.scopes);
        return {
          platform: p.platform,
          displayName: p.displayName,
          kind: BUILTIN_PLATFORMS.includes(p.platform as BuiltinPlatform) ? 'builtin' : 'generic',
          prompts: p.prompts,
          enabled: p.enabled,
          requiredScopes: [...catalog.requiredScopes],
          botScopes: [...catalog.botScopes],
        };
      }),
    };
  }
}
