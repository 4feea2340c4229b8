import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { NO_NUL } from '../../common/strings';
import { PLATFORM_NAME, Platform } from '../../config/app-config';

const noNul = { message: '$property must not contain NUL characters' };

export class CreateConnectLinkDto {
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' })
  @Matches(PLATFORM_NAME, { message: 'platform must be a platform name (GET /v1/platforms lists them)' })
  platform!: Platform;
  @ApiProperty({ description: 'The tenant (Entra tenant id, Slack team id, Webex org id, Zoom account id)' })
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  tenantExternalId!: string;
  @ApiPropertyOptional({ description: 'When set, OAuth must come back as this user or nothing is stored' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  userExternalId?: string;
  @ApiPropertyOptional({
    description:
      'Offered as a "Continue" link on the success page. Must be https (http only for loopback hosts) and its origin one of ' +
      "the creating API key's returnOrigins; otherwise 422 (checked by the service with the WHATWG URL parser browsers use).",
    maxLength: 255,
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(NO_NUL, noNul)
  returnUrl?: string;
}

export class ConnectLinkView {
  @ApiProperty({ description: 'Signed, expiring, single-use URL; GET shows a page, its button starts OAuth' }) url!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}
