import type { Platform } from '../config/app-config';
import { HttpResult, retryAfterSeconds, trimDescription } from './http';
import { FailureSignals, ProviderFailure } from './platform';

/** What a platform's error body says, read by the sender that knows its shape. */
export interface ErrorBody {
  platformCode?: string;
  error?: string;
  description?: string;
}

/** Bot credentials the platform refused: an operator problem, never a customer's. */
export const BOT_AUTH_FAILED = 'bot_auth_failed';

/** A failed bot call as raw signals: status, the platform's code, Retry-After. */
export function sendFailure(platform: Platform, result: HttpResult, body: ErrorBody): ProviderFailure {
  const signals: FailureSignals = {
    platform,
    operation: 'send',
    httpStatus: result.status,
    error: body.error,
    platformCode: body.platformCode,
    // A non-JSON answer (a proxy's HTML page) still says something useful in its first bytes.
    description: trimDescription(body.description ?? (result.json === undefined ? result.text : undefined)),
    retryAfterSeconds: retryAfterSeconds(result.headers),
  };
  return new ProviderFailure(signals);
}

/** A 2xx whose body lacks what the platform documents (an id, a token). */
export function unparseable(platform: Platform, result: HttpResult, what: string): ProviderFailure {
  return new ProviderFailure({ platform, operation: 'send', httpStatus: result.status, network: 'unparseable', description: `no ${what} in the answer` });
}
