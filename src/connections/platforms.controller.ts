import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { PLATFORMS, Platform } from '../config/app-config';
import { OAuthProviders } from '../platforms/oauth-registry';
import { scopeCatalog } from '../platforms/scope-catalog';

class PlatformView {
  @ApiProperty({ enum: PLATFORMS }) platform!: Platform;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: [String] }) requiredScopes!: string[];
  @ApiProperty({ type: [String] }) botScopes!: string[];
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
      items: PLATFORMS.map((platform) => {
        const catalog = scopeCatalog(platform);
        return {
          platform,
          enabled: this.providers.all().some((p) => p.platform === platform && p.enabled),
          requiredScopes: [...catalog.requiredScopes],
          botScopes: [...catalog.botScopes],
        };
      }),
    };
  }
}
