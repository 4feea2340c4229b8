import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Caller } from './auth';
import { AppError, ProblemCode } from './problem';

/** The authenticated caller of this request (set by `ApiKeyGuard`). */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<FastifyRequest>().caller;
  if (!caller) throw new AppError(ProblemCode.Unauthorized);
  return caller;
});
