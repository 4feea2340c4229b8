import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { CONDITIONS } from '../platforms/conditions';
import { PLATFORM_NAME } from '../config/app-config';

export class ListIncidentsQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ enum: ['open', 'resolved'] }) @IsOptional() @IsIn(['open', 'resolved']) status?: 'open' | 'resolved';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class PromptView {
  @ApiProperty({ enum: ['initial', 'reminder', 'confirmation'] }) kind!: string;
  @ApiProperty({ description: "The person's user id on the platform" }) recipient!: string;
  @ApiProperty({ pattern: PLATFORM_NAME.source, description: 'microsoft, slack, webex, zoom, or a PROVIDERS_FILE provider (GET /v1/platforms)' }) platform!: string;
  @ApiProperty({ enum: ['queued', 'sent', 'failed'] }) status!: string;
  @ApiPropertyOptional({ format: 'date-time' }) sentAt?: string;
}

export class IncidentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) tenantId!: string;
  @ApiProperty({ type: [String] }) connectionIds!: string[];
  @ApiProperty({ enum: CONDITIONS }) condition!: string;
  @ApiProperty({ enum: ['admin', 'user'] }) audience!: string;
  @ApiProperty({ enum: ['open', 'resolved'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) openedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) resolvedAt?: string;
  @ApiProperty({ type: [PromptView] }) prompts!: PromptView[];
}

export class IncidentListView {
  @ApiProperty({ type: [IncidentView] }) items!: IncidentView[];
  @ApiPropertyOptional() nextCursor?: string;
}
