import { missingScopes, scopeCatalog } from '../scope-catalog';

describe('Microsoft scope catalog', () => {
  const { requiredScopes, botScopes, reasons } = scopeCatalog('microsoft');

  it('lists SPEC §8 scopes, each with a reason', () => {
    expect(requiredScopes).toEqual([
      'openid',
      'profile',
      'offline_access',
      'User.Read',
      'Chat.Read',
      'Channel.ReadBasic.All',
      'Files.Read.All',
      'Sites.Read.All',
      'Team.ReadBasic.All',
      'User.ReadBasic.All',
    ]);
    for (const scope of [...requiredScopes, ...botScopes]) expect(reasons[scope]).toMatch(/\w/);
  });

  it('takes a grant as Entra ID words it (no offline_access, prefix or not, any case) as complete', () => {
    const echoed = 'openid profile User.Read Chat.Read Channel.ReadBasic.All Files.Read.All Sites.Read.All Team.ReadBasic.All User.ReadBasic.All';
    expect(missingScopes('microsoft', echoed.split(' '))).toEqual([]);
    expect(missingScopes('microsoft', [echoed.replace('openid profile ', '')])).toEqual([]);
    expect(
      missingScopes(
        'microsoft',
        echoed.split(' ').map((s) => `https://graph.microsoft.com/${s.toLowerCase()}`),
      ),
    ).toEqual([]);
  });

  it('reports the scope an admin took away', () => {
    expect(missingScopes('microsoft', ['User.Read', 'Chat.Read', 'Channel.ReadBasic.All', 'Sites.Read.All', 'Team.ReadBasic.All', 'User.ReadBasic.All'])).toEqual([
      'Files.Read.All',
    ]);
  });
});
