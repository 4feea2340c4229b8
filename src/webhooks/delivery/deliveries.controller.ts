import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, Roles } from '../../common/auth';
import { CurrentCaller } from '../../common/caller.decorator';
import { AppError, ProblemCode } from '../../common/problem';
import { newEventId } from '../../events/event-log';
import { WebhookEndpointsService } from '../webhook-endpoints.service';
import { DeliveryListView, DeliveryView, ListDeliveriesQuery, PingView, ReplayDto, ReplayedView } from './deliveries.dto';
import { DeliveriesRepository, DeliveryRow } from './deliveries.repository';
import { DeliveryWorker } from './delivery.worker';

const OUTSIDE = 'Unknown, or outside the caller’s scope';

const invalidCursor = () => new AppError(ProblemCode.ValidationFailed, 'cursor is not a cursor this service returned', { errors: [{ field: 'cursor', message: 'is invalid' }] });
const cursorOf = (d: DeliveryRow) => Buffer.from(JSON.stringify([d.at, d.eventId])).toString('base64url');

function beforeOf(cursor: string): { at: string; eventId: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalidCursor();
  }
  const [at, eventId] = Array.isArray(parsed) && parsed.length === 2 ? (parsed as unknown[]) : [];
  const ok = typeof at === 'string' && typeof eventId === 'string' && !Number.isNaN(Date.parse(at)) && /^evt_[A-Za-z0-9_-]{1,64}$/.test(eventId);
  if (!ok) throw invalidCursor();
  return { at, eventId };
}

function toView(d: DeliveryRow): DeliveryView {
  return {
    eventId: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    ...(d.lastStatusCode !== null ? { lastStatusCode: d.lastStatusCode } : {}),
    ...(d.lastError !== null ? { lastError: d.lastError } : {}),
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt.toISOString() } : {}),
    createdAt: d.createdAt.toISOString(),
  };
}

/** SPEC §11 delivery routes of an endpoint inside the caller's scope (others read as 404). */
@ApiTags('webhook-endpoints')
@ApiBearerAuth()
@Controller('v1/webhook-endpoints')
@Roles('admin')
export class DeliveriesController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly deliveries: DeliveriesRepository,
    private readonly worker: DeliveryWorker,
  ) {}

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Delivery attempts to this endpoint, newest first' })
  @ApiOkResponse({ type: DeliveryListView })
  @ApiNotFoundResponse({ description: OUTSIDE })
  async list(@CurrentCaller() caller: Caller, @Param('id') id: string, @Query() q: ListDeliveriesQuery): Promise<DeliveryListView> {
    await this.endpoints.get(caller, id);
    const limit = q.limit ?? 100;
    const rows = await this.deliveries.list(id, { status: q.status, before: q.cursor ? beforeOf(q.cursor) : undefined, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { items: page.map(toView), ...(rows.length > limit ? { nextCursor: cursorOf(page[page.length - 1]) } : {}) };
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a `ping` event to this endpoint alone (signed like any delivery)' })
  @ApiAcceptedResponse({ type: PingView })
  @ApiNotFoundResponse({ description: OUTSIDE })
  async test(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<PingView> {
    const endpoint = await this.endpoints.get(caller, id);
    if (endpoint.disabled) throw new AppError(ProblemCode.Conflict, 'The endpoint is disabled; enable it (PATCH disabled: false) to test it.');
    const eventId = newEventId();
    await this.deliveries.ping(id, eventId, { endpointId: id, sentBy: caller.clientId });
    this.worker.ring();
    return { eventId };
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue again the events of [since, until) this endpoint subscribes to' })
  @ApiAcceptedResponse({ type: ReplayedView })
  @ApiBadRequestResponse({ description: '/problems/validation-failed: since/until are not RFC 3339 times, or until is not after since' })
  @ApiNotFoundResponse({ description: OUTSIDE })
  async replay(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body() body: ReplayDto): Promise<ReplayedView> {
    await this.endpoints.get(caller, id);
    const since = new Date(body.since);
    const until = body.until ? new Date(body.until) : null;
    if (until && until <= since) throw new AppError(ProblemCode.ValidationFailed, 'until must be after since', { errors: [{ field: 'until', message: 'must be after since' }] });
    const queued = await this.deliveries.replay(id, since, until);
    if (queued > 0) this.worker.ring();
    return { queued };
  }
}
