import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, Length, Matches } from 'class-validator';
import type { Role } from '../common/auth';
import { NO_NUL } from '../common/strings';

export class CreateApiClientDto {
  @ApiProperty({ description: 'Who holds the key', maxLength: 200, example: 'teams-relay' })
  @IsString() @Length(1, 200) @Matches(NO_NUL, { message: 'must not contain NUL characters' })
  name!: string;

  @ApiProperty({ enum: ['admin', 'relay'], description: 'admin manages tenants, keys and incidents; relay reads tokens' })
  @IsIn(['admin', 'relay'])
  role!: Role;

  @ApiProperty({
    type: [String],
    description: '`["*"]` for every tenant, or a non-empty list of tenant ids from POST /v1/tenants',
    example: ['*'],
  })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsString({ each: true }) @Length(1, 255, { each: true })
  tenantIds!: string[];
}

export class CreatedApiClientDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The key. Shown once; only its hash is stored.' }) apiKey!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'relay'] }) role!: Role;
  @ApiProperty({ type: [String] }) tenantIds!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}
