import { missingScopes, scopeCatalog } from '../scope-catalog';

describe('Zoom scope catalog', () => {
  it('lists SPEC §8 scopes and the chatbot scope', () => {
    const { requiredScopes, botScopes } = scopeCatalog('zoom');
    expect(requiredScopes).toEqual(['chat_message:read', 'chat_message:write', 'chat_channel:read', 'user:read']);
    expect(botScopes).toEqual(['imchat:bot']);
  });

  it('counts an account-level (:admin) grant as covering the user-level scope', () => {
    expect(missingScopes('zoom', ['chat_message:read:admin chat_message:write chat_channel:read user:read:admin'])).toEqual([]);
    expect(missingScopes('zoom', ['chat_message:read', 'user:read'])).toEqual(['chat_message:write', 'chat_channel:read']);
  });
});
