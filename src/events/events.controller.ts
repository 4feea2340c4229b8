import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { AppError, ProblemCode } from '../common/problem';
import { EventListView, EventView, ListEventsQuery } from './events.dto';
import { EventRow, EventsRepository } from './events.repository';

/** The paging key (created_at as PostgreSQL prints it, id), base64url. */
const cursorOf = (e: EventRow) => Buffer.from(JSON.stringify([e.at, e.id])).toString('base64url');

function afterOf(cursor: string): { at: string; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [at, id] = parsed as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/.test(at) && /^evt_[A-Za-z0-9_-]{1,64}$/.test(id)) {
      return { at, id };
    }
  }
  throw new AppError(ProblemCode.ValidationFailed, 'cursor is not a cursor this service returned', { errors: [{ field: 'cursor', message: 'is invalid' }] });
}

export function toEventView(e: EventRow): EventView {
  return { id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), tenantId: e.tenantId, data: { ...e.data, sequence: e.sequence } };
}

@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
@Roles('relay', 'admin')
export class EventsController {
  constructor(private readonly events: EventsRepository) {}

  @Get()
  @ApiOperation({ summary: 'The event log of SPEC §11 inside the key’s scope, oldest first' })
  @ApiOkResponse({ type: EventListView })
  async list(@CurrentCaller() caller: Caller, @Query() q: ListEventsQuery): Promise<EventListView> {
    const limit = q.limit ?? 100;
    const rows = await this.events.list(
      { since: q.since ? new Date(q.since) : undefined, type: q.type, tenantId: q.tenantId, after: q.cursor ? afterOf(q.cursor) : undefined, limit: limit + 1 },
      caller.tenantIds ?? 'all',
    );
    const page = rows.slice(0, limit);
    return { items: page.map(toEventView), ...(rows.length > limit ? { nextCursor: cursorOf(page[page.length - 1]) } : {}) };
  }
}
