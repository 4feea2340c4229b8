import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateBy, ValidationOptions } from 'class-validator';
import type { Role } from '../common/auth';
import { parseOrigin } from '../common/origins';
import { NO_NUL } from '../common/strings';

const ORIGIN_RULE = 'https://host[:port], or http:// only for loopback hosts (127.0.0.0/8, ::1, localhost), with no path';

const IsReturnOrigin = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isReturnOrigin',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && 'origin' in parseOrigin(value),
        defaultMessage: () => `each value in returnOrigins must be an origin: ${ORIGIN_RULE}`,
      },
    },
    options,
  );

export class CreateApiClientDto {
  @ApiProperty({ description: 'Who holds the key', maxLength: 200, example: 'teams-relay' })
  @IsString()
  @Length(1, 200)
  @Matches(NO_NUL, { message: 'must not contain NUL characters' })
  name!: string;

  @ApiProperty({ enum: ['admin', 'relay'], description: 'admin manages tenants, keys and incidents; relay reads tokens' })
  @IsIn(['admin', 'relay'])
  role!: Role;

  @ApiProperty({
    type: [String],
    description:
      '`["*"]` for every tenant, or a non-empty list of tenant ids from POST /v1/tenants. ' +
      'A key scoped to tenants may only ask for a subset of its own (else 403 /problems/scope-exceeded).',
    example: ['*'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  tenantIds!: string[];

  @ApiPropertyOptional({
    type: [String],
    description: `Origins this key's connect links may return to (returnUrl): ${ORIGIN_RULE}. Stored as URL.origin.`,
    example: ['https://relay.example.com'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  @IsReturnOrigin({ each: true })
  returnOrigins?: string[];
}

export class ApiClientView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'relay'] }) role!: Role;
  @ApiProperty({ type: [String], description: '`["*"]` or tenant ids' }) tenantIds!: string[];
  @ApiProperty({ type: [String], description: 'Origins connect links of this key may return to' }) returnOrigins!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Coarse: recorded at most once a minute' }) lastUsedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) revokedAt?: string;
}

export class CreatedApiClientDto extends ApiClientView {
  @ApiProperty({ description: 'The key. Shown once; only its hash is stored.' }) apiKey!: string;
}

export class ApiClientListView {
  @ApiProperty({ type: [ApiClientView], description: 'Never a key or its hash' }) items!: ApiClientView[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ListApiClientsQuery {
  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 255) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}
