import { SetMetadata } from '@nestjs/common';

export type Role = 'admin' | 'relay';

/** The caller, as the API-key guard resolved it. `tenantIds` null means every tenant. */
export interface Caller {
  clientId: string;
  role: Role;
  tenantIds: readonly string[] | null;
  /** Origins (`URL.origin`) this key's connect links may return to; absent means none. */
  returnOrigins?: readonly string[];
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

/**
 * Whether a key scope (`null` = every tenant) lies inside the caller's: what a caller may
 * create, list and revoke (SPEC §5 "a key can only hand out what it holds").
 */
export function holdsScope(caller: Caller, scope: readonly string[] | null): boolean {
  if (caller.tenantIds === null) return true;
  if (scope === null) return false;
  const own = caller.tenantIds;
  return scope.every((id) => own.includes(id));
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}
