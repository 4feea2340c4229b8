import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { createValidationPipe } from '../../common/validation';

export const MIN_VALIDITY_DEFAULT = 300;
const MIN_VALIDITY_MAX = 86_400;

export class AccessTokenRequestDto {
  @ApiPropertyOptional({ minimum: 0, maximum: MIN_VALIDITY_MAX, default: MIN_VALIDITY_DEFAULT, description: 'Refresh first when the token has less validity left' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MIN_VALIDITY_MAX)
  minValiditySeconds?: number;
}

/**
 * `minValiditySeconds` of a token call's body. The token call is every relay's hot path, and
 * class-transformer plus class-validator cost about a tenth of it for this one optional field,
 * so a valid body (none, `{}`, or the field alone within its range) is recognised directly.
 * Anything else goes through the shared validation pipe, which answers with the usual
 * field errors of `AccessTokenRequestDto`.
 */
@Injectable()
export class MinValidityPipe implements PipeTransform<unknown, Promise<number>> {
  private readonly full = createValidationPipe();

  async transform(body: unknown): Promise<number> {
    if (body === undefined) return MIN_VALIDITY_DEFAULT;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const keys = Object.keys(body);
      const value = (body as { minValiditySeconds?: unknown }).minValiditySeconds;
      if (keys.length === 0) return MIN_VALIDITY_DEFAULT;
      if (keys.length === 1 && Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MIN_VALIDITY_MAX) return value as number;
    }
    const dto = (await this.full.transform(body, { type: 'body', metatype: AccessTokenRequestDto })) as AccessTokenRequestDto;
    return dto.minValiditySeconds ?? MIN_VALIDITY_DEFAULT;
  }
}

export class AccessTokenView {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty() accessToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
}
