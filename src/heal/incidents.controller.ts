import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { AppError, ProblemCode } from '../common/problem';
import { UUID } from '../common/strings';
import { IncidentListView, IncidentView, ListIncidentsQuery } from './incidents.dto';
import { IncidentRow, IncidentsRepository } from './incidents.repository';

@ApiTags('incidents')
@ApiBearerAuth()
@Controller('v1/incidents')
@Roles('admin')
export class IncidentsController {
  constructor(private readonly incidents: IncidentsRepository) {}

  @Get()
  @ApiOperation({ summary: 'Auto Heal incidents with their prompts' })
  @ApiOkResponse({ type: IncidentListView })
  async list(@CurrentCaller() caller: Caller, @Query() q: ListIncidentsQuery): Promise<IncidentListView> {
    const limit = q.limit ?? 100;
    const after = q.cursor ? Buffer.from(q.cursor, 'base64url').toString() : undefined;
    if (after !== undefined && !UUID.test(after)) throw new AppError(ProblemCode.ValidationFailed, 'cursor is invalid', { errors: [{ field: 'cursor', message: 'is invalid' }] });
    const rows = await this.incidents.list({ tenantId: q.tenantId, status: q.status, afterId: after, limit: limit + 1 }, caller.tenantIds ?? 'all');
    const page = rows.slice(0, limit);
    const items = await this.views(page);
    return { items, ...(rows.length > limit ? { nextCursor: Buffer.from(page[page.length - 1].id).toString('base64url') } : {}) };
  }

  @Get(':id')
  @ApiOkResponse({ type: IncidentView })
  async get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<IncidentView> {
    const row = UUID.test(id) ? await this.incidents.find(id, caller.tenantIds ?? 'all') : undefined;
    if (!row) throw new AppError(ProblemCode.NotFound, 'No such incident.');
    return (await this.views([row]))[0];
  }

  private views(rows: IncidentRow[]): Promise<IncidentView[]> {
    return incidentViews(this.incidents, rows);
  }
}

/** Incidents as the API and the board show them: with their connections and prompts. */
export async function incidentViews(incidents: IncidentsRepository, rows: IncidentRow[]): Promise<IncidentView[]> {
  const ids = rows.map((r) => r.id);
  const [prompts, links] = await Promise.all([incidents.prompts(ids), incidents.connectionIds(ids)]);
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenantId,
    connectionIds: links.filter((l) => l.incidentId === r.id).map((l) => l.connectionId),
    condition: r.condition,
    audience: r.audience,
    status: r.status,
    openedAt: r.openedAt.toISOString(),
    ...(r.resolvedAt ? { resolvedAt: r.resolvedAt.toISOString() } : {}),
    prompts: prompts
      .filter((p) => p.incidentId === r.id)
      .map((p) => ({ kind: p.kind, recipient: p.recipient, platform: p.platform, status: p.status, ...(p.sentAt ? { sentAt: p.sentAt.toISOString() } : {}) })),
  }));
}
