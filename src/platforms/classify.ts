import type { BuiltinPlatform, Platform } from '../config/app-config';
import { AUDIENCE, Classification, Condition } from './conditions';
import { MICROSOFT_SIGNALS } from './microsoft/microsoft-signals';
import type { FailureSignals } from './platform';
import { SLACK_SIGNALS } from './slack/slack-signals';
import { WEBEX_SIGNALS } from './webex/webex-signals';
import { ZOOM_SIGNALS } from './zoom/zoom-signals';
import { RFC6749_SIGNALS } from './rfc6749-signals';

/**
 * What one signal means. `dead_grant` is a refresh token the platform will not take any more
 * without saying why: past its known expiry it is `refresh_token_inactive`, else `grant_revoked`.
 */
export type SignalOutcome = Condition | 'dead_grant' | 'transient' | 'client_misconfigured';

/** The signal fields a table row can key on. */
export type SignalKey = 'aadsts' | 'suberror' | 'error' | 'platformCode';

export interface SignalRule {
  key: SignalKey;
  /** Compared after trimming, lower-casing and dropping trailing `.`/`!` (Zoom reasons). */
  value: string | number;
  outcome: SignalOutcome;
  /** Only for this call (Webex's `invalid_request` is a dead grant on a refresh only). */
  operation?: FailureSignals['operation'];
  /** The OAuth `error` this platform code arrives with, where the platform documents one. */
  seenWith?: string;
  why: string;
}

export interface SignalTable {
  platform: Platform;
  /** Keys in order of precedence: the first key that matches a row decides (SPEC §3). */
  precedence: readonly SignalKey[];
  rules: readonly SignalRule[];
}

export const SIGNAL_TABLES: Readonly<Record<BuiltinPlatform, SignalTable>> = {
  microsoft: MICROSOFT_SIGNALS,
  slack: SLACK_SIGNALS,
  webex: WEBEX_SIGNALS,
  zoom: ZOOM_SIGNALS,
};

export interface ClassifyContext {
  /** The connection's refresh-token expiry, when the platform reported one or documents it. */
  refreshTokenExpiresAt?: Date;
  now: Date;
}

const normalise = (value: string | number): string =>
  String(value)
    .trim()
    .toLowerCase()
    .replace(/[.!]+$/, '');

/** The table of a platform: one of the four's, else the RFC 6749 table a generic provider starts from. */
export function tableOf(platform: Platform): SignalTable {
  return SIGNAL_TABLES[platform as BuiltinPlatform] ?? { ...RFC6749_SIGNALS, platform };
}

/** The row that decides these signals, if any. `table`: a generic provider's own (PROVIDERS_FILE). */
export function matchRule(signals: FailureSignals, table: SignalTable = tableOf(signals.platform)): SignalRule | undefined {
  for (const key of table.precedence) {
    const seen = signals[key];
    if (seen === undefined || seen === '') continue;
    const wanted = normalise(seen);
    const rule = table.rules.find((r) => r.key === key && normalise(r.value) === wanted && (r.operation === undefined || r.operation === signals.operation));
    if (rule) return rule;
  }
  return undefined;
}

/**
 * The one answer to "is this failure transient?" (SPEC §3), for refreshes, bot sends and code
 * exchanges alike: below-HTTP failures, 429 and 5xx whatever the body says, then a table row
 * that says so (Slack `ratelimited`, Microsoft `temporarily_unavailable`, …). Answers why, or
 * undefined for a permanent failure. `rule` is for a caller that has matched already.
 */
export function transientReason(signals: FailureSignals, rule: SignalRule | undefined = matchRule(signals)): string | undefined {
  if (signals.network) return `network ${signals.network}`;
  const status = signals.httpStatus;
  if (status !== undefined && (status === 429 || status >= 500)) return `http ${status}`;
  return rule?.outcome === 'transient' ? `${rule.key} ${rule.value}` : undefined;
}

export const isTransient = (signals: FailureSignals, table?: SignalTable): boolean => transientReason(signals, matchRule(signals, table)) !== undefined;

/**
 * Classifies a failed upstream call (SPEC §3): transient as `transientReason` says; then the
 * platform's table decides; an unknown permanent failure is `grant_revoked`, marked
 * `unclassified` with its raw code so the table can grow.
 */
export function classify(signals: FailureSignals, context: ClassifyContext, table?: SignalTable): Classification {
  const retryAfterMs = signals.retryAfterSeconds === undefined ? undefined : signals.retryAfterSeconds * 1000;
  const rule = matchRule(signals, table);
  const transient = transientReason(signals, rule);
  if (transient !== undefined) return { kind: 'transient', retryAfterMs, reason: transient };

  if (!rule) {
    const raw = rawCode(signals);
    return { kind: 'condition', condition: 'grant_revoked', audience: AUDIENCE.grant_revoked, reason: `unclassified ${raw}`, unclassified: raw };
  }
  const reason = `${rule.key} ${rule.value}`;
  switch (rule.outcome) {
    case 'transient': // answered above already; here so the switch covers every outcome
      return { kind: 'transient', retryAfterMs, reason };
    case 'client_misconfigured':
      return { kind: 'client_misconfigured', reason };
    case 'dead_grant': {
      const expired = context.refreshTokenExpiresAt !== undefined && context.refreshTokenExpiresAt.getTime() <= context.now.getTime();
      const condition: Condition = expired ? 'refresh_token_inactive' : 'grant_revoked';
      return { kind: 'condition', condition, audience: AUDIENCE[condition], reason };
    }
    default:
      return { kind: 'condition', condition: rule.outcome, audience: AUDIENCE[rule.outcome], reason };
  }
}

/** The most specific code the platform gave, for the `unclassified` metric label. */
function rawCode(signals: FailureSignals): string {
  if (signals.aadsts !== undefined) return `AADSTS${signals.aadsts}`;
  return signals.platformCode ?? signals.suberror ?? signals.error ?? (signals.httpStatus !== undefined ? `http_${signals.httpStatus}` : 'unknown');
}
