import { In, Repository } from 'typeorm';
import { Caller, holdsScope } from '../common/auth';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { TenantEntity } from './tenant.entity';

/**
 * The tenant scope a caller asks to hand out (an API key's, a webhook endpoint's): `["*"]`
 * (null) only from a `*` key, otherwise a subset of the caller's own tenants, each existing.
 * SPEC §5: a key can only hand out what it holds; the subset is checked before any look-up, so
 * a scoped key learns nothing about tenants outside its scope (403 `scope-exceeded`). `granting`
 * names what is refused ("grant", "subscribe to").
 */
export async function resolveTenantScope(caller: Caller, tenantIds: readonly string[], tenants: Repository<TenantEntity>, granting: string): Promise<string[] | null> {
  const exceeded = (what: string) => new AppError(ProblemCode.ScopeExceeded, `This API key is scoped to tenants and cannot ${granting} ${what}.`);
  if (tenantIds.length === 1 && tenantIds[0] === '*') {
    if (!holdsScope(caller, null)) throw exceeded('"*" (every tenant)');
    return null;
  }
  if (tenantIds.includes('*')) {
    throw new AppError(ProblemCode.ValidationFailed, 'tenantIds: "*" must be the only entry', { errors: [{ field: 'tenantIds', message: '"*" must be the only entry' }] });
  }
  // PostgreSQL answers uuids in lower case; compare in the same form.
  const unique = [...new Set(tenantIds.map((id) => (UUID.test(id) ? id.toLowerCase() : id)))];
  if (!holdsScope(caller, unique)) throw exceeded('tenants outside its own scope');
  const malformed = unique.filter((id) => !UUID.test(id));
  const found = await tenants.find({ select: { id: true }, where: { id: In(unique.filter((id) => UUID.test(id))) } });
  const known = new Set(found.map((t) => t.id));
  const unknown = [...malformed, ...unique.filter((id) => UUID.test(id) && !known.has(id))];
  if (unknown.length > 0) throw new AppError(ProblemCode.Unprocessable, `Unknown tenant ids: ${unknown.join(', ')}`, { unknownTenantIds: unknown });
  return unique;
}
