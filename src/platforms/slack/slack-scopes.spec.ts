import { missingScopes, scopeCatalog } from '../scope-catalog';

describe('Slack scope catalog', () => {
  const { requiredScopes, botScopes, reasons } = scopeCatalog('slack');

  it('lists SPEC §8 user and bot scopes, each with a reason', () => {
    expect(requiredScopes).toHaveLength(10);
    expect(botScopes).toEqual(['chat:write', 'im:write', 'users:read', 'users:read.email']);
    for (const scope of [...requiredScopes, ...botScopes]) expect(reasons[scope]).toMatch(/\w/);
  });

  it('reads the comma-separated scope string oauth.v2.access returns', () => {
    expect(missingScopes('slack', [requiredScopes.join(',')])).toEqual([]);
    expect(missingScopes('slack', [requiredScopes.filter((s) => s !== 'im:history').join(',')])).toEqual(['im:history']);
  });
});
