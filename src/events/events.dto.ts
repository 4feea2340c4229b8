import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsRFC3339, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { EVENT_TYPES, EventType } from './event-types';

export class ListEventsQuery {
  @ApiPropertyOptional({ format: 'date-time', description: 'Events created at or after this RFC 3339 time' }) @IsOptional() @IsRFC3339() since?: string;
  @ApiPropertyOptional({ enum: EVENT_TYPES }) @IsOptional() @IsIn(EVENT_TYPES) type?: EventType;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class EventView {
  @ApiProperty({ example: 'evt_…' }) id!: string;
  @ApiProperty({ enum: EVENT_TYPES }) type!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) tenantId!: string | null;
  @ApiProperty({ description: 'ids, platform, status, condition, audience, external ids, timestamps and the per-connection sequence; never a token' })
  data!: Record<string, unknown>;
}

export class EventListView {
  @ApiProperty({ type: [EventView] }) items!: EventView[];
  @ApiPropertyOptional({
    description: 'On every non-empty page, the last page too: where the next poll continues. Absent on an empty page (poll again with the same cursor).',
  })
  nextCursor?: string;
}
