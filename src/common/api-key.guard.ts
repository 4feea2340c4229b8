import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiClientsService } from '../api-clients/api-clients.service';
import { AppConfig } from '../config/app-config';
import { PUBLIC_KEY, Role, ROLES_KEY } from './auth';
import { AppError, ProblemCode } from './problem';
import { TokenBuckets } from './rate-limit';

interface RouteAccess {
  isPublic: boolean;
  roles: Role[] | undefined;
}

/** Global guard: `Authorization: Bearer <api key>` and the route's `@Roles`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** Each route's `@Public`/`@Roles` by controller and handler, read once: metadata does not change after start. */
  private readonly access = new WeakMap<object, WeakMap<object, RouteAccess>>();
  /** SPEC §5 `RATE_LIMIT`: one bucket per API key, per replica, holding twice the rate. */
  private readonly buckets: TokenBuckets | undefined;
  private readonly policy: string | undefined;

  constructor(
    private readonly reflector: Reflector,
    private readonly clients: ApiClientsService,
    config: AppConfig,
  ) {
    const rate = config.rateLimit;
    if (rate) {
      this.buckets = new TokenBuckets(rate, 2 * rate.count);
      this.policy = `"per-key";q=${rate.count};w=${Math.max(1, Math.round(rate.windowMs / 1000))}`;
    }
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { isPublic, roles } = this.routeAccess(context);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header) : null;
    if (isPublic) {
      // A public route may show more to a known key (readiness details); a bad key is no error here.
      if (match) request.caller = (await this.clients.authenticate(match[1]).catch(() => undefined)) ?? undefined;
      return true;
    }
    if (!match) throw new AppError(ProblemCode.Unauthorized, 'Send Authorization: Bearer <api key>.');
    const caller = await this.clients.authenticate(match[1]);
    if (!caller) throw new AppError(ProblemCode.Unauthorized, 'The API key is unknown or revoked.');
    const waitMs = this.buckets?.take(caller.clientId) ?? 0;
    if (waitMs > 0) throw this.limited(context.switchToHttp().getResponse<FastifyReply>(), waitMs);
    if (!roles || !roles.includes(caller.role)) throw new AppError(ProblemCode.Forbidden, `This route needs the ${roles?.join(' or ') ?? 'admin'} role.`);
    request.caller = caller;
    return true;
  }

  /** 429 before any work: the draft-ietf-httpapi-ratelimit-headers fields, and Retry-After (set by the problem filter). */
  private limited(reply: FastifyReply, waitMs: number): AppError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    reply.header('RateLimit-Policy', this.policy).header('RateLimit', `"per-key";r=0;t=${seconds}`);
    return new AppError(ProblemCode.RateLimited, 'This API key is over its request rate; retry after the time in Retry-After.', {}, seconds);
  }

  private routeAccess(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const controller = context.getClass();
    let routes = this.access.get(controller);
    if (!routes) this.access.set(controller, (routes = new WeakMap()));
    let access = routes.get(handler);
    if (!access) {
      const targets = [handler, controller];
      access = {
        isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
        roles: this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets),
      };
      routes.set(handler, access);
    }
    return access;
  }
}
