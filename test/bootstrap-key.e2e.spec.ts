import { startTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { makeApiKey } from './support/factories';

/** SPEC §5: a bootstrap key revoked through the API stays revoked until ADMIN_API_KEY changes. */
describe('bootstrap key across restarts', () => {
  it('stays revoked at the next start until ADMIN_API_KEY changes', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startTestApp({}, { databaseUrl: database.url });
      const keeper = await makeApiKey(first, 'admin');
      const bootstrap = (await first.call('GET', '/v1/api-clients')).body.items.find((k: { name: string }) => k.name === 'bootstrap admin');
      expect((await first.call('DELETE', `/v1/api-clients/${bootstrap.id}`)).status).toBe(204);
      expect((await first.call('GET', '/v1/platforms')).status).toBe(401);
      await first.close();

      const second = await startTestApp({}, { databaseUrl: database.url });
      expect((await second.call('GET', '/v1/platforms')).status).toBe(401);
      const seen = (await second.call('GET', '/v1/api-clients', undefined, keeper.apiKey)).body.items.find((k: { id: string }) => k.id === bootstrap.id);
      expect(Date.parse(seen.revokedAt)).not.toBeNaN();
      await second.close();

      const rotated = 'test-admin-key-rotated-0123456789abcdef0123';
      const third = await startTestApp({ ADMIN_API_KEY: rotated }, { databaseUrl: database.url });
      expect((await third.call('GET', '/v1/platforms', undefined, rotated)).status).toBe(200);
      expect((await third.call('GET', '/v1/platforms')).status).toBe(401);
      const fresh = (await third.call('GET', '/v1/api-clients', undefined, rotated)).body.items.find((k: { name: string }) => k.name === 'bootstrap admin');
      expect(fresh).toMatchObject({ role: 'admin', tenantIds: ['*'] });
      expect(fresh).not.toHaveProperty('revokedAt');
      await third.close();
    } finally {
      await database.drop();
    }
  });
});
