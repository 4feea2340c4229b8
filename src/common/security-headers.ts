import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';

/**
 * SPEC §5 page headers. Browser pages (everything outside `/v1/`: connect, OAuth, problem
 * pages, the board, the OpenAPI UI) get helmet's full set under a CSP with no inline script;
 * the JSON API gets the headers that matter for a non-HTML answer. Helmet's middleware is built
 * once here: `@fastify/helmet` rebuilds it on every request (two hooks, one async), which the
 * token read cannot afford.
 */
export function securityHeaders(https: boolean): (request: FastifyRequest, reply: FastifyReply) => void {
  const page = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  const api: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  const noop = () => undefined;
  return (request, reply) => {
    if (request.url.startsWith('/v1/')) reply.headers(api);
    else page(request.raw, reply.raw, noop);
  };
}
