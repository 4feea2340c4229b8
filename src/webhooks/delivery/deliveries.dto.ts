import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsRFC3339, IsString, Length, Max, Min } from 'class-validator';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES }) @IsOptional() @IsIn(DELIVERY_STATUSES) status?: (typeof DELIVERY_STATUSES)[number];
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class DeliveryView {
  @ApiProperty({ example: 'evt_…' }) eventId!: string;
  @ApiProperty({ example: 'connection.broken' }) type!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: string;
  @ApiProperty({ description: 'Attempts made so far' }) attempts!: number;
  @ApiPropertyOptional({ description: 'The HTTP status of the last answer, when there was one' }) lastStatusCode?: number;
  @ApiPropertyOptional({ description: 'Our code for the last failure: http_503, timeout, connection_failed, url_refused' }) lastError?: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due (pending only)' }) nextAttemptAt?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class DeliveryListView {
  @ApiProperty({ type: [DeliveryView], description: 'Newest first' }) items!: DeliveryView[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ReplayDto {
  @ApiProperty({ format: 'date-time', description: 'Events recorded at or after this time' }) @IsRFC3339() since!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Events recorded before this time (default: now)' }) @IsOptional() @IsRFC3339() until?: string;
}

export class ReplayedView {
  @ApiProperty({ description: 'Deliveries queued again, as new' }) queued!: number;
}

export class PingView {
  @ApiProperty({ example: 'evt_…', description: 'The ping event queued to this endpoint; its outcome shows in …/deliveries' }) eventId!: string;
}
