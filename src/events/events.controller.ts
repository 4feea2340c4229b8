import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../common/auth';
import { CurrentCaller } from '../common/caller.decorator';
import { AppError, ProblemCode } from '../common/problem';
import { EventListView, EventView, ListEventsQuery } from './events.dto';
import { EventRow, EventsRepository, PagedEventRow } from './events.repository';

/**
 * The paging key (xid, id) of the last event of a page, base64url of JSON; the xid (a 64-bit
 * xid8) as a decimal string. A cursor of the old (created_at, id) paging is refused (400).
 */
const cursorOf = (e: PagedEventRow) => Buffer.from(JSON.stringify([e.xid, e.id])).toString('base64url');

const XID8_MAX = 2n ** 64n - 1n;
/** Plain decimal only: PostgreSQL would also read `012` as octal and `-1` as 2^64 - 1. */
const isXid8 = (s: string) => /^(0|[1-9]\d{0,19})$/.test(s) && BigInt(s) <= XID8_MAX;

function afterOf(cursor: string): { xid: string; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [xid, id] = parsed as unknown[];
    if (typeof xid === 'string' && typeof id === 'string' && isXid8(xid) && /^evt_[A-Za-z0-9_-]{1,64}$/.test(id)) return { xid, id };
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
  @ApiOperation({ summary: 'The event log of SPEC §11 inside the key’s scope, in transaction order; nothing ever commits behind a cursor' })
  @ApiOkResponse({ type: EventListView })
  async list(@CurrentCaller() caller: Caller, @Query() q: ListEventsQuery): Promise<EventListView> {
    const limit = q.limit ?? 100;
    const page = await this.events.list(
      { since: q.since ? new Date(q.since) : undefined, type: q.type, tenantId: q.tenantId, after: q.cursor ? afterOf(q.cursor) : undefined, limit },
      caller.tenantIds ?? 'all',
    );
    // A feed, not a finite list: every non-empty page says where to poll next, the last one too,
    // so a relay that has caught up keeps its place. An empty page has none: poll with the same cursor.
    return { items: page.map(toEventView), ...(page.length > 0 ? { nextCursor: cursorOf(page[page.length - 1]) } : {}) };
  }
}
