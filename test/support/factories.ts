import { scopeCatalog } from '../../src/platforms/scope-catalog';
import { randomUUID } from 'node:crypto';
import type { TestApp } from './app';

type Platform = 'microsoft' | 'slack' | 'webex' | 'zoom';

/** A tenant through the API, with one admin unless told otherwise. */
export async function makeTenant(t: TestApp, overrides: Record<string, unknown> = {}) {
  const platform = (overrides.platform as Platform | undefined) ?? 'microsoft';
  const body = {
    platform,
    externalId: platform === 'microsoft' ? randomUUID() : `T${randomUUID().slice(0, 8).toUpperCase()}`,
    name: 'Contoso',
    admins: [{ userExternalId: platform === 'microsoft' ? randomUUID() : `UADMIN${randomUUID().slice(0, 6)}`, email: 'admin@contoso.example' }],
    // Only an allowed Bot Framework URL is accepted (SPEC §8): the configured one (the sandbox), when there is one.
    ...(platform === 'microsoft' && t.config.microsoft.botServiceUrl ? { bot: { serviceUrl: t.config.microsoft.botServiceUrl } } : {}),
    ...overrides,
  };
  const res = await t.call('POST', '/v1/tenants', body);
  if (res.status !== 201) throw new Error(`makeTenant: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; platform: Platform; externalId: string; admins: { userExternalId: string }[] };
}

/** An API key through the API. */
export async function makeApiKey(t: TestApp, role: 'admin' | 'relay', tenantIds: string[] = ['*']) {
  const res = await t.call('POST', '/v1/api-clients', { name: `${role} key`, role, tenantIds });
  if (res.status !== 201) throw new Error(`makeApiKey: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; apiKey: string };
}

/** Every scope a user connection of the platform must hold (the scope catalog). */
export function fullScopes(platform: Platform): string[] {
  return [...scopeCatalog(platform).requiredScopes];
}
