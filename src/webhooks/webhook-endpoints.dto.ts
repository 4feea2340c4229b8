import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { NO_NUL } from '../common/strings';
import { EVENT_TYPES } from '../events/event-types';

/**
 * The types an endpoint may subscribe to: SPEC §11's fixed list. `ping` is not among them:
 * only POST …/test sends it, to that one endpoint, whatever it subscribes to.
 */
export const SUBSCRIBABLE_EVENT_TYPES: readonly string[] = EVENT_TYPES;

const URL_RULE =
  'https:// (http:// only with WEBHOOK_ALLOW_PRIVATE_URLS=true), no user:password@, no #fragment, at most 2048 characters; ' +
  'unless WEBHOOK_ALLOW_PRIVATE_URLS=true every address the host resolves to must be public (no loopback, private, link-local, CGNAT, multicast or metadata address). ' +
  'A URL breaking a rule is refused with 400 /problems/validation-failed naming `url`.';
const EVENTS_RULE = `["*"] for every type, or some of: ${SUBSCRIBABLE_EVENT_TYPES.join(', ')} (ping is sent only by POST …/test and cannot be subscribed to)`;
const TENANTS_RULE =
  'Tenants whose events are delivered: ["*"] for every tenant (only a `*` admin key), or a non-empty subset of the caller’s tenants (else 403 /problems/scope-exceeded). ' +
  'Absent on create: the caller’s own tenants.';

const EVENT_CHOICES = ['*', ...SUBSCRIBABLE_EVENT_TYPES];

export class CreateWebhookEndpointDto {
  @ApiProperty({ description: URL_RULE, maxLength: 2048, example: 'https://relay.example.com/hooks/autoheal' })
  @IsString()
  @Length(1, 2048)
  url!: string;

  @ApiProperty({ type: [String], description: EVENTS_RULE, example: ['connection.broken', 'connection.healed'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be "*" or one of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}` })
  events!: string[];

  @ApiPropertyOptional({ type: [String], description: TENANTS_RULE, example: ['*'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  tenantIds?: string[];

  @ApiPropertyOptional({ maxLength: 500, example: 'Teams relay, production' })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  @Matches(NO_NUL, { message: 'must not contain NUL characters' })
  description?: string;
}

export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional({ description: URL_RULE, maxLength: 2048 }) @IsOptional() @IsString() @Length(1, 2048) url?: string;

  @ApiPropertyOptional({ type: [String], description: EVENTS_RULE })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsIn(EVENT_CHOICES, { each: true, message: `each value in events must be "*" or one of ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}` })
  events?: string[];

  @ApiPropertyOptional({ type: [String], description: TENANTS_RULE })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  tenantIds?: string[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true, type: String, description: 'null clears it' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @Length(0, 500)
  @Matches(NO_NUL, { message: 'must not contain NUL characters' })
  description?: string | null;

  @ApiPropertyOptional({ description: 'A disabled endpoint receives nothing' }) @IsOptional() @IsBoolean() disabled?: boolean;
}

export class WebhookEndpointView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String], description: '["*"] or event types' }) events!: string[];
  @ApiProperty({ type: [String], description: '["*"] or tenant ids' }) tenantIds!: string[];
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedWebhookEndpointDto extends WebhookEndpointView {
  @ApiProperty({ description: 'The signing secret (whsec_ + base64 of 32 bytes). Shown once; stored sealed in the vault.' }) secret!: string;
}

export class RotatedSecretDto {
  @ApiProperty({ description: 'The new signing secret, shown once' }) secret!: string;
  @ApiProperty({ format: 'date-time', description: 'Until then the previous secret keeps signing too (24 h)' }) previousSecretExpiresAt!: string;
}

export class WebhookEndpointListView {
  @ApiProperty({ type: [WebhookEndpointView], description: 'Never a secret' }) items!: WebhookEndpointView[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ListWebhookEndpointsQuery {
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}
