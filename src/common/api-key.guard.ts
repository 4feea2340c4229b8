import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiClientsService } from '../api-clients/api-clients.service';
import { PUBLIC_KEY, Role, ROLES_KEY } from './auth';
import { AppError, ProblemCode } from './problem';

interface RouteAccess {
  isPublic: boolean;
  roles: Role[] | undefined;
}

/** Global guard: `Authorization: Bearer <api key>` and the route's `@Roles`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** Each route's `@Public`/`@Roles` by controller and handler, read once: metadata does not change after start. */
  private readonly access = new WeakMap<object, WeakMap<object, RouteAccess>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly clients: ApiClientsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { isPublic, roles } = this.routeAccess(context);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header) : null;
    if (!match) throw new AppError(ProblemCode.Unauthorized, 'Send Authorization: Bearer <api key>.');
    const caller = await this.clients.authenticate(match[1]);
    if (!caller) throw new AppError(ProblemCode.Unauthorized, 'The API key is unknown or revoked.');
    if (!roles || !roles.includes(caller.role)) throw new AppError(ProblemCode.Forbidden, `This route needs the ${roles?.join(' or ') ?? 'admin'} role.`);
    request.caller = caller;
    return true;
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
