import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsObject, IsOptional, IsString, IsUrl, Length, Matches, ValidateNested } from 'class-validator';
import { PLATFORM_NAME, Platform } from '../config/app-config';
import { NO_NUL } from '../common/strings';

const noNul = { message: '$property must not contain NUL characters' };

export class TenantAdminDto {
  @ApiProperty({ description: "The admin's user id on the platform (AAD object id, Slack U…, Webex person id, Zoom user id)" })
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  userExternalId!: string;

  @ApiPropertyOptional({ format: 'email' })
  @IsOptional()
  @IsEmail()
  @Length(1, 255)
  email?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(NO_NUL, noNul)
  displayName?: string;
}

/**
 * Bot settings, by platform: `{serviceUrl}` for microsoft (Teams), `{botToken}` for slack
 * (vaulted, never returned), none for webex, `{accountId}` for zoom. Which keys a platform
 * allows is checked by the service.
 */
export class TenantBotDto {
  @ApiPropertyOptional({
    description:
      'microsoft: the Bot Framework service URL of the tenant; https on a MICROSOFT_BOT_SERVICE_HOSTS host (smba.trafficmanager.net, *.botframework.com, …) or the origin of MICROSOFT_BOT_SERVICE_URL',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  @Length(1, 255)
  serviceUrl?: string;

  @ApiPropertyOptional({ description: 'slack: the bot token (xoxb-…); stored in the vault and never returned' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  botToken?: string;

  @ApiPropertyOptional({ description: "zoom: the account id the chatbot posts in; must equal the tenant's externalId" })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  accountId?: string;
}

export class CreateTenantDto {
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' })
  @Matches(PLATFORM_NAME, { message: 'platform must be a platform name (GET /v1/platforms lists them)' })
  platform!: Platform;

  @ApiProperty({ description: 'Entra tenant id, Slack team id, Webex org id or Zoom account id' })
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  externalId!: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(NO_NUL, noNul)
  name!: string;

  @ApiProperty({ type: [TenantAdminDto], description: 'People who receive admin prompts' })
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => TenantAdminDto)
  admins!: TenantAdminDto[];

  @ApiPropertyOptional({ type: TenantBotDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TenantBotDto)
  bot?: TenantBotDto;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(NO_NUL, noNul)
  name?: string;

  @ApiPropertyOptional({ type: [TenantAdminDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => TenantAdminDto)
  admins?: TenantAdminDto[];

  @ApiPropertyOptional({ type: TenantBotDto, description: 'Replaces the bot settings' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TenantBotDto)
  bot?: TenantBotDto;
}

export class TenantBotView {
  @ApiPropertyOptional() serviceUrl?: string;
  @ApiPropertyOptional() accountId?: string;
  @ApiPropertyOptional({ description: 'slack: whether a bot token is stored (the token is never returned)' })
  botTokenConfigured?: boolean;
}

export class TenantView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' }) platform!: Platform;
  @ApiProperty() externalId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [TenantAdminDto] }) admins!: TenantAdminDto[];
  @ApiProperty({ type: TenantBotView }) bot!: TenantBotView;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}
