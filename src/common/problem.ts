/**
 * Every failure a client can see, as a code. `describeProblem` maps each code to its HTTP
 * status and stable RFC 9457 `type` in one exhaustive switch: adding a code without a
 * mapping does not compile.
 */
export enum ProblemCode {
  ValidationFailed = 'validation-failed',
  MalformedRequest = 'malformed-request',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  ScopeExceeded = 'scope-exceeded',
  NotFound = 'not-found',
  MethodNotAllowed = 'method-not-allowed',
  Conflict = 'conflict',
  Gone = 'gone',
  PayloadTooLarge = 'payload-too-large',
  UnsupportedMediaType = 'unsupported-media-type',
  Unprocessable = 'unprocessable',
  RateLimited = 'rate-limited',
  ReauthRequired = 'reauth-required',
  ServiceUnavailable = 'service-unavailable',
  UpstreamUnavailable = 'upstream-unavailable',
  ClientMisconfigured = 'client-misconfigured',
  Internal = 'internal',
}

export interface ProblemShape {
  status: number;
  title: string;
}

export function describeProblem(code: ProblemCode): ProblemShape {
  switch (code) {
    case ProblemCode.ValidationFailed:
      return { status: 400, title: 'The request is not valid' };
    case ProblemCode.MalformedRequest:
      return { status: 400, title: 'The request could not be read' };
    case ProblemCode.Unauthorized:
      return { status: 401, title: 'A valid API key is required' };
    case ProblemCode.Forbidden:
      return { status: 403, title: 'This API key may not do that' };
    case ProblemCode.ScopeExceeded:
      return { status: 403, title: 'An API key cannot grant more than it holds' };
    case ProblemCode.NotFound:
      return { status: 404, title: 'Not found' };
    case ProblemCode.MethodNotAllowed:
      return { status: 405, title: 'Method not allowed' };
    case ProblemCode.Conflict:
      return { status: 409, title: 'Conflict with the current state' };
    case ProblemCode.Gone:
      return { status: 410, title: 'Gone' };
    case ProblemCode.PayloadTooLarge:
      return { status: 413, title: 'The request body is larger than 1 MiB' };
    case ProblemCode.UnsupportedMediaType:
      return { status: 415, title: 'Unsupported media type' };
    case ProblemCode.Unprocessable:
      return { status: 422, title: 'The request refers to something that does not exist or cannot be used' };
    case ProblemCode.RateLimited:
      return { status: 429, title: 'Too many requests' };
    case ProblemCode.ReauthRequired:
      return { status: 409, title: 'The user must re-authorise this connection' };
    case ProblemCode.ServiceUnavailable:
      return { status: 503, title: 'The service is temporarily unavailable' };
    case ProblemCode.UpstreamUnavailable:
      return { status: 503, title: 'The platform is temporarily unavailable' };
    case ProblemCode.ClientMisconfigured:
      return { status: 503, title: "The service's OAuth client for this platform is misconfigured" };
    case ProblemCode.Internal:
      return { status: 500, title: 'Internal error' };
  }
}

/** The relative `type` URI of a problem; the service serves a short page at each. */
export const problemType = (code: ProblemCode) => `/problems/${code}`;

export interface FieldError {
  field: string;
  message: string;
}

/** A failure meant for the client: code, a human detail, and optional extension members. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(detail ?? code);
  }
}
