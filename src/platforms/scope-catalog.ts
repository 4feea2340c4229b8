import type { BuiltinPlatform } from '../config/app-config';
import { MICROSOFT_SCOPES } from './microsoft/microsoft-scopes';
import { SLACK_SCOPES } from './slack/slack-scopes';
import { WEBEX_SCOPES } from './webex/webex-scopes';
import { ZOOM_SCOPES } from './zoom/zoom-scopes';

export interface ScopeEntry {
  scope: string;
  /** One line: why the service asks for it. */
  reason: string;
}

/** How a platform reports the scopes it granted, so a full grant is never mistaken for drift. */
export interface GrantedScopeRules {
  /** Requested scopes the platform never lists back (OpenID Connect scopes on Entra ID). */
  notEchoed: readonly string[];
  /** Resource prefixes the platform may or may not put in front of a scope. */
  stripPrefixes: readonly string[];
  caseInsensitive: boolean;
  /** A granted `<scope><suffix>` also covers `<scope>` (Zoom account-level scopes). */
  adminSuffix?: string;
}

export interface PlatformScopes {
  user: readonly ScopeEntry[];
  bot: readonly ScopeEntry[];
  grants: GrantedScopeRules;
}

export interface ScopeCatalog {
  requiredScopes: readonly string[];
  botScopes: readonly string[];
  /** Scope → reason, user and bot scopes together. */
  reasons: Readonly<Record<string, string>>;
}

/** The four platforms' scopes; a generic provider's come from PROVIDERS_FILE. */
export const BUILTIN_SCOPES: Readonly<Record<BuiltinPlatform, PlatformScopes>> = {
  microsoft: MICROSOFT_SCOPES,
  slack: SLACK_SCOPES,
  webex: WEBEX_SCOPES,
  zoom: ZOOM_SCOPES,
};

export function scopeCatalog(platform: BuiltinPlatform): ScopeCatalog {
  return catalogOf(BUILTIN_SCOPES[platform]);
}

export function catalogOf(scopes: PlatformScopes): ScopeCatalog {
  const reasons: Record<string, string> = {};
  for (const entry of [...scopes.bot, ...scopes.user]) reasons[entry.scope] = entry.reason;
  return {
    requiredScopes: scopes.user.map((s) => s.scope),
    botScopes: scopes.bot.map((s) => s.scope),
    reasons,
  };
}

/**
 * The required user scopes a grant lacks (scope drift). `granted` may hold single scopes or the
 * platform's own joined strings (Slack's comma list, a space-separated `scope` field).
 */
export function missingScopes(platform: BuiltinPlatform | PlatformScopes, granted: readonly string[]): string[] {
  const { user, grants } = typeof platform === 'string' ? BUILTIN_SCOPES[platform] : platform;
  const normalise = (scope: string): string => {
    let s = scope.trim();
    for (const prefix of grants.stripPrefixes) if (s.toLowerCase().startsWith(prefix.toLowerCase())) s = s.slice(prefix.length);
    if (grants.adminSuffix && s.endsWith(grants.adminSuffix)) s = s.slice(0, -grants.adminSuffix.length);
    return grants.caseInsensitive ? s.toLowerCase() : s;
  };
  const have = new Set(
    granted
      .flatMap((g) => g.split(/[\s,]+/))
      .filter((s) => s.length > 0)
      .map(normalise),
  );
  const skip = new Set(grants.notEchoed.map(normalise));
  return user.map((e) => e.scope).filter((scope) => !skip.has(normalise(scope)) && !have.has(normalise(scope)));
}
