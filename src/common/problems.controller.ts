import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from './auth';
import { AppError, describeProblem, ProblemCode } from './problem';
import { htmlPage } from './html';

const EXPLANATIONS: Partial<Record<ProblemCode, string>> = {
  [ProblemCode.ReauthRequired]:
    'The platform no longer accepts this connection’s refresh token, so no new access token can be issued. ' +
    'The problem body names the `condition`, its `audience` (`user`: the user must re-connect with the re-sync link the service sent them; ' +
    '`admin`: a tenant administrator must change a setting), and the `incidentId` to follow in GET /v1/incidents/{id}. ' +
    'Retrying the same call will not help until the incident resolves.',
  [ProblemCode.UpstreamUnavailable]: 'The platform did not answer in time or answered with a temporary error. Retry after the number of seconds in Retry-After.',
  [ProblemCode.ClientMisconfigured]:
    'The service’s own OAuth client for this platform was refused (for example an expired client secret). An operator must fix it; retry after Retry-After.',
  [ProblemCode.ServiceUnavailable]: 'A dependency of the service (usually its database) is unreachable. Retry after Retry-After.',
  [ProblemCode.ScopeExceeded]:
    'An admin key scoped to tenants creates keys only for tenants in its own scope, never `*`. ' + 'Ask for a subset of the tenants this key holds, or use a `*` admin key.',
  [ProblemCode.ValidationFailed]: 'One or more fields are invalid; `errors` lists each field and what is wrong with it.',
};

/** Short human pages behind every problem `type` URI. */
@ApiExcludeController()
@Controller('problems')
@Public()
export class ProblemsController {
  @Get(':slug')
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(@Param('slug') slug: string): string {
    const code = Object.values(ProblemCode).find((c: string) => c === slug);
    if (!code) throw new AppError(ProblemCode.NotFound, 'No such problem type.');
    const { status, title } = describeProblem(code);
    return htmlPage(title, [`HTTP ${status}.`, EXPLANATIONS[code] ?? title + '.']);
  }
}
