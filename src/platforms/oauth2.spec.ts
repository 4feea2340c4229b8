import { grantedScopes, statedScopes } from './oauth2';

describe('SPEC §8 scopes rule (grantedScopes)', () => {
  it('a scope member grants exactly those scopes; none grants what was requested', () => {
    expect(grantedScopes(statedScopes('a b'), ['x', 'y'])).toEqual({ scopes: ['a', 'b'], scopesStated: true });
    expect(grantedScopes(statedScopes('a,b'), ['x'])).toEqual({ scopes: ['a', 'b'], scopesStated: true });
    expect(grantedScopes(statedScopes(undefined), ['x', 'y'])).toEqual({ scopes: ['x', 'y'], scopesStated: false });
    // An empty scope member is a statement: nothing granted, not "whatever was asked".
    expect(grantedScopes(statedScopes(''), ['x'])).toEqual({ scopes: [], scopesStated: true });
  });
});
