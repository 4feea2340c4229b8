import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, FieldError, ProblemCode } from './problem';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Strict DTO validation: unknown properties are rejected, types are not coerced except
 * where a DTO says so, and every failing field is listed in `errors`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return new AppError(ProblemCode.ValidationFailed, list.map((e) => `${e.field}: ${e.message}`).join('; '), { errors: list });
    },
  });
}
