import { SetMetadata } from '@nestjs/common';

export type Role = 'admin' | 'relay';

/** The caller, as the API-key guard resolved it. `tenantIds` null means every tenant. */
export interface Caller {
  clientId: string;
  role: Role;
  tenantIds: readonly string[] | null;
}

export const ROLES_KEY = 'autoheal:roles';
/** Which roles may call a route. A route without `@Roles` and without `@Public` is refused. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const PUBLIC_KEY = 'autoheal:public';
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Whether a caller may see data of a tenant. Callers outside their scope get 404s, not 403s. */
export function canSeeTenant(caller: Caller, tenantId: string): boolean {
  return caller.tenantIds === null || caller.tenantIds.includes(tenantId);
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}
