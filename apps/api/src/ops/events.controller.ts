import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE } from '../auth/jwt-verifier';
import { badRequest, notFound } from '../http/api.errors';
import { errorResponse, openApiSchema } from '../http/openapi';
import { eventLifeSchema } from './ops.schemas';
import { AdminErrorResponses } from './admin-responses';
import { Ops } from './ops.service';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/events')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class EventsController {
  constructor(@Inject(Ops) private readonly ops: Ops) {}

  @Get(':eventId')
  @ApiOperation({
    summary: "An event's whole life",
    description:
      'Where an event is and has been: its outbox row, the Redis fallback, its Kafka coordinates, each consumer ' +
      "group's outcome (handled, retried, dead-lettered, redriven, parked, discarded), the business row it touched " +
      `and its Jaeger trace; \`steps\` in time order. Requires "${ADMIN_SCOPE}".`,
  })
  @ApiParam({ name: 'eventId', description: 'The `x-event-id` (an outbox row id).' })
  @ApiResponse({ status: 200, description: 'The life.', schema: openApiSchema(eventLifeSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Not an event id (INVALID_ID).'))
  @AdminErrorResponses()
  @ApiResponse(errorResponse(404, 'The fleet has no trace of this event.'))
  async get(@Param('eventId') eventId: string) {
    if (!/^[\x21-\x7e]{1,200}$/.test(eventId))
      throw badRequest('INVALID_ID', 'an event id is 1–200 printable characters');
    const life = await this.ops.eventLife.find(eventId);
    if (!life) throw notFound(`no trace of event ${eventId} in the outbox, the retries or the dead letters`);
    return life;
  }
}
