import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { NO_NUL } from '../common/strings';
import { PLATFORM_NAME, Platform } from '../config/app-config';
import type { ConnectionStatus } from './connection.types';

const STATUSES: ConnectionStatus[] = ['active', 'needs_reauth', 'blocked', 'revoked'];
const noNul = { message: '$property must not contain NUL characters' };
/** RFC 3339 date-time with an explicit offset (SPEC: `…At` fields are RFC 3339 UTC strings). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export class ListConnectionsQuery {
  @ApiPropertyOptional({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' })
  @IsOptional()
  @Matches(PLATFORM_NAME, { message: 'platform must be a platform name (GET /v1/platforms lists them)' })
  platform?: Platform;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) @Matches(NO_NUL, noNul) tenantExternalId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) @Matches(NO_NUL, noNul) userExternalId?: string;
  @ApiPropertyOptional({ enum: STATUSES }) @IsOptional() @IsIn(STATUSES) status?: ConnectionStatus;
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ImportConnectionDto {
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' })
  @Matches(PLATFORM_NAME, { message: 'platform must be a platform name (GET /v1/platforms lists them)' })
  platform!: Platform;
  @ApiProperty() @IsString() @Length(1, 255) @Matches(NO_NUL, noNul) tenantExternalId!: string;
  @ApiProperty() @IsString() @Length(1, 255) @Matches(NO_NUL, noNul) userExternalId!: string;
  @ApiProperty({ description: 'Stored sealed; never returned by any read' })
  @IsString()
  @Length(1, 8192)
  @Matches(NO_NUL, noNul)
  accessToken!: string;
  @ApiProperty({ description: 'Stored sealed; never returned' })
  @IsString()
  @Length(1, 8192)
  @Matches(NO_NUL, noNul)
  refreshToken!: string;
  @ApiProperty({ format: 'date-time', description: 'When the access token expires (RFC 3339)' })
  @IsISO8601({ strict: true })
  @Matches(RFC3339, { message: 'expiresAt must be an RFC 3339 date-time' })
  expiresAt!: string;
  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(RFC3339, { message: 'refreshTokenExpiresAt must be an RFC 3339 date-time' })
  refreshTokenExpiresAt?: string;
  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  @Matches(NO_NUL, { each: true, message: 'scopes must not contain NUL characters' })
  scopes!: string[];
}

export class LastErrorView {
  @ApiProperty({ enum: ['transient', 'client_misconfigured', 'condition'] }) kind!: string;
  @ApiPropertyOptional() condition?: string;
  @ApiPropertyOptional() audience?: string;
  @ApiPropertyOptional() code?: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' }) platform!: Platform;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty() tenantExternalId!: string;
  @ApiProperty() userExternalId!: string;
  @ApiProperty({ enum: STATUSES }) status!: ConnectionStatus;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ format: 'date-time', nullable: true }) accessTokenExpiresAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time' }) refreshTokenExpiresAt?: string;
  @ApiProperty({ format: 'date-time', nullable: true, description: 'null while the connection is not scheduled (needs re-auth, blocked, revoked)' })
  nextRefreshAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time' }) lastRefreshAt?: string;
  @ApiPropertyOptional({ type: LastErrorView }) lastError?: LastErrorView;
  @ApiPropertyOptional({ format: 'uuid' }) incidentId?: string;
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView] }) items!: ConnectionView[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class AuditQuery {
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class AuditEventView {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'An API client id, or refresher, oauth for the service itself' }) actor!: string;
  @ApiProperty({ example: 'token.read', description: 'token.read, token.refresh, connection.connect, connection.resync, connection.import, connection.revoke' }) action!: string;
  @ApiProperty({ example: 'served' }) outcome!: string;
  @ApiPropertyOptional({ description: 'e.g. the platform error code of a failed refresh; never a token' }) detail?: Record<string, unknown>;
}

export class AuditListView {
  @ApiProperty({ type: [AuditEventView] }) items!: AuditEventView[];
  @ApiPropertyOptional() nextCursor?: string;
}
