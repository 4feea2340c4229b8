import { Client } from 'pg';
import { ADMIN_KEY } from './support/app';
import { makeApiKey, makeTenant } from './support/factories';
import { importGrant } from './support/heal';
import { followConnectLink, platformIds, startWorld, World } from './support/world';

/** SPEC §5 "a key can only hand out what it holds", key listing, and connect-link return URLs. */
describe('API key scope', () => {
  let w: World;
  let db: Client;
  beforeAll(async () => {
    w = await startWorld();
    db = new Client({ connectionString: w.t.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await w.close();
  });

  const keyCount = async (name: string) => (await db.query('SELECT count(*)::int AS n FROM api_clients WHERE name = $1', [name])).rows[0].n as number;
  const works = async (key: string) => (await w.t.call('GET', '/v1/platforms', undefined, key)).status;

  /** A webex tenant with one imported connection; returns the tenant and the connection id. */
  async function tenantWithConnection() {
    const ids = platformIds('webex');
    const tenant = await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
    const imported = await importGrant(w, 'webex', ids.tenant, { userExternalId: ids.user });
    return { tenant, connectionId: imported.id, accessToken: imported.accessToken };
  }

  describe('creating keys', () => {
    it('refuses a tenant-scoped admin asking for "*" (403 scope-exceeded) and stores nothing', async () => {
      const mine = await makeTenant(w.t);
      const scoped = await makeApiKey(w.t, 'admin', [mine.id]);
      for (const role of ['relay', 'admin']) {
        const res = await w.t.call('POST', '/v1/api-clients', { name: `star from scoped ${role}`, role, tenantIds: ['*'] }, scoped.apiKey);
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.type).toBe('/problems/scope-exceeded');
        expect(res.body).not.toHaveProperty('apiKey');
        expect(await keyCount(`star from scoped ${role}`)).toBe(0);
      }
      const page = await fetch(`${w.t.url}/problems/scope-exceeded`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('subset');
    });

    it('refuses foreign and unknown tenants alike (403), so a scoped key cannot probe which ids exist', async () => {
      const mine = await makeTenant(w.t);
      const foreign = await makeTenant(w.t);
      const scoped = await makeApiKey(w.t, 'admin', [mine.id]);
      const asks = [[foreign.id], [mine.id, foreign.id], ['11111111-1111-4111-8111-111111111111'], [mine.id, 'not-a-uuid']];
      const answers = [];
      for (const tenantIds of asks) {
        const res = await w.t.call('POST', '/v1/api-clients', { name: 'overreach', role: 'relay', tenantIds }, scoped.apiKey);
        answers.push({ status: res.status, type: res.body.type, detail: res.body.detail });
      }
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403]);
      expect(new Set(answers.map((a) => a.type))).toEqual(new Set(['/problems/scope-exceeded']));
      // The answer for an existing foreign tenant and for an id that exists nowhere is the same.
      expect(answers[0].detail).toBe(answers[2].detail);
      expect(await keyCount('overreach')).toBe(0);
      // A * admin still learns that an id is unknown (422), as before.
      expect((await w.t.call('POST', '/v1/api-clients', { name: 'overreach', role: 'relay', tenantIds: ['11111111-1111-4111-8111-111111111111'] })).status).toBe(422);
    });

    it('lets a scoped admin create a key for a subset of its tenants, which then reads tokens only inside it', async () => {
      const a = await tenantWithConnection();
      const b = await tenantWithConnection();
      const c = await tenantWithConnection();
      const scoped = await makeApiKey(w.t, 'admin', [a.tenant.id, b.tenant.id]);
      // Upper-case ids are the same tenants (PostgreSQL answers uuids in lower case).
      const created = await w.t.call('POST', '/v1/api-clients', { name: 'subset relay', role: 'relay', tenantIds: [a.tenant.id.toUpperCase()] }, scoped.apiKey);
      expect(created.status).toBe(201);
      expect(created.body.tenantIds).toEqual([a.tenant.id]);

      const token = await w.t.call('POST', `/v1/connections/${a.connectionId}/access-token`, {}, created.body.apiKey);
      expect(token.status).toBe(200);
      expect(token.body.accessToken).toBe(a.accessToken);
      for (const other of [b, c]) {
        const refused = await w.t.call('POST', `/v1/connections/${other.connectionId}/access-token`, {}, created.body.apiKey);
        expect(refused.status).toBe(404);
        expect(JSON.stringify(refused.body)).not.toContain(other.accessToken);
      }
      const both = await w.t.call('POST', '/v1/api-clients', { name: 'both', role: 'admin', tenantIds: [a.tenant.id, b.tenant.id] }, scoped.apiKey);
      expect(both.status).toBe(201);
      expect((await w.t.call('GET', `/v1/tenants/${c.tenant.id}`, undefined, both.body.apiKey)).status).toBe(404);
    });
  });

  describe('listing and revoking', () => {
    it('lets a scoped admin revoke only keys inside its scope; the others read as 404 and keep working', async () => {
      const mine = await makeTenant(w.t);
      const foreign = await makeTenant(w.t);
      const scoped = await makeApiKey(w.t, 'admin', [mine.id]);
      const starRelay = await makeApiKey(w.t, 'relay');
      const foreignAdmin = await makeApiKey(w.t, 'admin', [foreign.id]);
      const straddling = await makeApiKey(w.t, 'relay', [mine.id, foreign.id]);
      const bootstrapId = (await db.query('SELECT id FROM api_clients WHERE bootstrap')).rows[0].id as string;

      for (const id of [bootstrapId, starRelay.id, foreignAdmin.id, straddling.id]) {
        const res = await w.t.call('DELETE', `/v1/api-clients/${id}`, undefined, scoped.apiKey);
        expect(res.status).toBe(404);
        expect(res.body.type).toBe('/problems/not-found');
      }
      const revoked = await db.query('SELECT count(*)::int AS n FROM api_clients WHERE id = ANY($1::uuid[]) AND revoked_at IS NOT NULL', [
        [bootstrapId, starRelay.id, foreignAdmin.id, straddling.id],
      ]);
      expect(revoked.rows[0].n).toBe(0);
      expect(await works(ADMIN_KEY)).toBe(200);
      expect(await works(starRelay.apiKey)).toBe(200);
      expect(await works(foreignAdmin.apiKey)).toBe(200);
      expect(await works(straddling.apiKey)).toBe(200);
      expect((await w.t.call('GET', `/v1/tenants/${foreign.id}`, undefined, foreignAdmin.apiKey)).status).toBe(200);

      const child = (await w.t.call('POST', '/v1/api-clients', { name: 'child', role: 'relay', tenantIds: [mine.id] }, scoped.apiKey)).body;
      expect(await works(child.apiKey)).toBe(200);
      expect((await w.t.call('DELETE', `/v1/api-clients/${child.id}`, undefined, scoped.apiKey)).status).toBe(204);
      expect(await works(child.apiKey)).toBe(401);
      expect((await w.t.call('DELETE', `/v1/api-clients/${scoped.id}`, undefined, scoped.apiKey)).status).toBe(204);
      expect(await works(scoped.apiKey)).toBe(401);
    });

    it('lists only keys inside the caller’s scope, never a key or its hash', async () => {
      const a = await makeTenant(w.t);
      const b = await makeTenant(w.t);
      const scoped = await makeApiKey(w.t, 'admin', [a.id]);
      const inside = (await w.t.call('POST', '/v1/api-clients', { name: 'inside', role: 'relay', tenantIds: [a.id], returnOrigins: ['https://relay.example.com'] }, scoped.apiKey))
        .body;
      const foreign = await makeApiKey(w.t, 'relay', [b.id]);
      const straddling = await makeApiKey(w.t, 'relay', [a.id, b.id]);
      const star = await makeApiKey(w.t, 'relay');
      await w.t.call('DELETE', `/v1/api-clients/${inside.id}`, undefined, scoped.apiKey);

      const list = await w.t.call('GET', '/v1/api-clients', undefined, scoped.apiKey);
      expect(list.status).toBe(200);
      expect(list.body.items.map((k: { id: string }) => k.id).sort()).toEqual([scoped.id, inside.id].sort());
      expect(list.body).not.toHaveProperty('nextCursor');
      const listed = list.body.items.find((k: { id: string }) => k.id === inside.id);
      expect(listed).toMatchObject({ name: 'inside', role: 'relay', tenantIds: [a.id], returnOrigins: ['https://relay.example.com'] });
      expect(Date.parse(listed.createdAt)).not.toBeNaN();
      expect(Date.parse(listed.revokedAt)).not.toBeNaN();
      expect(Object.keys(listed).sort()).toEqual(['createdAt', 'id', 'name', 'returnOrigins', 'revokedAt', 'role', 'tenantIds']);

      const all = await w.t.call('GET', '/v1/api-clients?limit=500');
      const ids = all.body.items.map((k: { id: string }) => k.id);
      expect(ids).toEqual(expect.arrayContaining([scoped.id, inside.id, foreign.id, straddling.id, star.id]));
      const text = JSON.stringify([list.body, all.body]);
      for (const key of [scoped.apiKey, inside.apiKey, foreign.apiKey, star.apiKey, ADMIN_KEY]) expect(text).not.toContain(key);
      expect(text).not.toMatch(/keyHash|key_hash|apiKey/);
      const hashes = (await db.query(`SELECT encode(key_hash, 'base64') AS b, encode(key_hash, 'hex') AS h FROM api_clients`)).rows;
      for (const { b, h } of hashes) {
        expect(text).not.toContain(b);
        expect(text).not.toContain(h);
      }
      expect((await w.t.call('GET', '/v1/api-clients', undefined, star.apiKey)).status).toBe(403);
    });

    it('pages the list with a cursor and refuses bad paging parameters (400)', async () => {
      const tenant = await makeTenant(w.t);
      const scoped = await makeApiKey(w.t, 'admin', [tenant.id]);
      const made = [scoped.id];
      for (let i = 0; i < 4; i++) made.push((await w.t.call('POST', '/v1/api-clients', { name: `page ${i}`, role: 'relay', tenantIds: [tenant.id] }, scoped.apiKey)).body.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await w.t.call('GET', `/v1/api-clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, scoped.apiKey);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((k: { id: string }) => k.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...made].sort());
      for (const q of ['limit=0', 'limit=501', 'limit=x', 'cursor=bm90LWFuLWlk', 'apiKey=1']) {
        const res = await w.t.call('GET', `/v1/api-clients?${q}`, undefined, scoped.apiKey);
        expect(res.status).toBe(400);
        expect(res.body.type).toBe('/problems/validation-failed');
      }
    });

    it('records when a key was last used', async () => {
      const relay = await makeApiKey(w.t, 'relay');
      const find = async () => (await w.t.call('GET', '/v1/api-clients?limit=500')).body.items.find((k: { id: string }) => k.id === relay.id);
      expect(await find()).not.toHaveProperty('lastUsedAt');
      const before = Date.now();
      expect(await works(relay.apiKey)).toBe(200);
      await vi.waitFor(async () => expect(await find()).toHaveProperty('lastUsedAt'), { timeout: 5_000, interval: 50 });
      const at = Date.parse((await find()).lastUsedAt);
      expect(at).toBeGreaterThanOrEqual(before - 1_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1_000);
    });

    it('documents GET /v1/api-clients in OpenAPI', async () => {
      const doc = await w.t.call('GET', '/docs-json', undefined, null);
      expect(Object.keys(doc.body.paths['/v1/api-clients'])).toEqual(expect.arrayContaining(['get', 'post']));
      expect(doc.body.components.schemas.ApiClientView.properties).not.toHaveProperty('apiKey');
      expect(doc.body.components.schemas.CreateApiClientDto.properties).toHaveProperty('returnOrigins');
    });
  });

  describe('return origins and connect-link return URLs', () => {
    it('normalises returnOrigins to URL.origin and refuses anything else with a 400 naming returnOrigins', async () => {
      const ok = await w.t.call('POST', '/v1/api-clients', {
        name: 'origins',
        role: 'relay',
        tenantIds: ['*'],
        returnOrigins: ['https://Relay.Example.com:443', 'https://relay.example.com', 'http://127.0.0.1:8080', 'http://localhost:3000', 'http://[::1]:9000'],
      });
      expect(ok.status).toBe(201);
      expect(ok.body.returnOrigins).toEqual(['https://relay.example.com', 'http://127.0.0.1:8080', 'http://localhost:3000', 'http://[::1]:9000']);
      expect((await db.query('SELECT return_origins FROM api_clients WHERE id = $1', [ok.body.id])).rows[0].return_origins).toEqual(ok.body.returnOrigins);

      for (const bad of [
        'http://relay.example.com',
        'https://relay.example.com/path',
        'ftp://relay.example.com',
        'javascript:alert(1)',
        'https://u:p@relay.example.com',
        'relay.example.com',
        42,
      ]) {
        const res = await w.t.call('POST', '/v1/api-clients', { name: 'bad origin', role: 'relay', tenantIds: ['*'], returnOrigins: [bad] });
        expect(res.status).toBe(400);
        expect(res.body.type).toBe('/problems/validation-failed');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('returnOrigins');
      }
      expect((await w.t.call('POST', '/v1/api-clients', { name: 'bad origin', role: 'relay', tenantIds: ['*'], returnOrigins: 'https://relay.example.com' })).status).toBe(400);
      expect(await keyCount('bad origin')).toBe(0);
    });

    it('accepts a returnUrl only under the creating key’s origins (else 422), and the success page continues there', async () => {
      const ids = platformIds('webex');
      const tenant = await makeTenant(w.t, { platform: 'webex', externalId: ids.tenant });
      const relay = (
        await w.t.call('POST', '/v1/api-clients', {
          name: 'relay with origins',
          role: 'relay',
          tenantIds: [tenant.id],
          returnOrigins: ['https://relay.example.com', 'http://127.0.0.1:5000'],
        })
      ).body;
      const plain = await makeApiKey(w.t, 'relay', [tenant.id]);
      const link = (returnUrl: unknown, key: string = relay.apiKey) =>
        w.t.call('POST', '/v1/connect-links', { platform: 'webex', tenantExternalId: ids.tenant, userExternalId: ids.user, returnUrl }, key);
      const links = async () => (await db.query('SELECT count(*)::int AS n FROM connect_links WHERE tenant_id = $1', [tenant.id])).rows[0].n as number;

      const refused = [
        'https://evil.example.com/done',
        'http://relay.example.com/done',
        'https://relay.example.com.evil.example/done',
        'https://relay.example.com@evil.example/done',
        'https://evil.example\\@relay.example.com/',
        'https://relay.example.com:8443/done',
        'http://127.0.0.1:5001/done',
        'javascript:alert(document.cookie)',
        'ftp://relay.example.com/done',
      ];
      for (const returnUrl of refused) {
        const res = await link(returnUrl);
        expect(res.status, returnUrl).toBe(422);
        expect(res.body.type).toBe('/problems/unprocessable');
        expect(res.body.detail).toContain('returnUrl');
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'returnUrl' })]);
      }
      // A key created without returnOrigins may not set a returnUrl at all.
      expect((await link('https://relay.example.com/done', plain.apiKey)).status).toBe(422);
      expect(await links()).toBe(0);

      expect((await link('http://127.0.0.1:5000/back')).status).toBe(201);
      const made = await link('https://RELAY.example.com/done?from=autoheal');
      expect(made.status).toBe(201);
      w.sb.control.addUser('webex', { tenantExternalId: ids.tenant, userExternalId: ids.user, email: 'person@example.com' });
      w.sb.control.signIn('webex', ids.user);
      const page = await followConnectLink(made.body.url);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<a href="https://relay.example.com/done?from=autoheal">Continue</a>');
    });
  });
});
