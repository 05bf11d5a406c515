import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DeadLetterError, RedriveError, type DeadLetterFilter, type Selection } from '@fleet/ops';
import { type FastifyReply } from 'fastify';
import { AuthGuard, CurrentUser, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE, type Principal } from '../auth/jwt-verifier';
import { badRequest, notFound } from '../http/api.errors';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import {
  discardBodySchema,
  discardResultSchema,
  dlqPageSchema,
  dlqTopicsSchema,
  deadLetterViewSchema,
  listDlqQuerySchema,
  redriveBodySchema,
  redrivePreviewSchema,
  redriveSchema,
  type DeadLetterView,
} from './ops.schemas';
import { AdminErrorResponses } from './admin-responses';
import { Ops } from './ops.service';
import { toSummary, toView } from './views';

/** How long a redrive request waits for its redrive to finish before answering 202 RUNNING. */
const ANSWER_WITHIN_MS = 2_000;

function toFilter(
  f: { from?: string; to?: string } & Omit<DeadLetterFilter, 'from' | 'to'>,
): DeadLetterFilter {
  const { from, to, ...rest } = f;
  return { ...rest, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) };
}

function toSelection(body: { ids?: string[]; filter?: Parameters<typeof toFilter>[0] }): Selection {
  return body.ids ? { ids: body.ids } : { filter: toFilter(body.filter!) };
}

function asApiError(error: unknown): never {
  if (error instanceof RedriveError) throw badRequest('VALIDATION_FAILED', error.message);
  if (error instanceof DeadLetterError && error.code === 'INVALID_CURSOR')
    throw badRequest('VALIDATION_FAILED', error.message);
  throw error;
}

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/dlq')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class DlqController {
  constructor(@Inject(Ops) private readonly ops: Ops) {}

  @Get('topics')
  @ApiOperation({
    summary: 'Dead letters per topic',
    description: `Counts by status and the failing groups. Requires "${ADMIN_SCOPE}".`,
  })
  @ApiResponse({
    status: 200,
    description: 'Topics with dead letters.',
    schema: openApiSchema(dlqTopicsSchema, 'output'),
  })
  @AdminErrorResponses()
  async topics() {
    return { topics: await this.ops.deadLetters.topics() };
  }

  @Get()
  @ApiOperation({
    summary: 'Browse dead letters',
    description:
      'Newest first, filtered by original topic (required), failing consumer group, DLQ reason, error code, key, ' +
      `event id, time range and status; pages with \`cursor\`. Requires "${ADMIN_SCOPE}".`,
  })
  @ApiResponse({
    status: 200,
    description: 'A page of dead letters.',
    schema: openApiSchema(dlqPageSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'A bad filter (VALIDATION_FAILED).'))
  @AdminErrorResponses()
  async list(@Query() query: unknown) {
    const { limit, cursor, ...filter } = parseInput(listDlqQuerySchema, query, 'query');
    try {
      const page = await this.ops.deadLetters.list(toFilter(filter), {
        limit,
        ...(cursor ? { cursor } : {}),
      });
      return { ...page, items: page.items.map(toSummary) };
    } catch (error) {
      asApiError(error);
    }
  }

  @Get('redrives/:id')
  @ApiOperation({ summary: 'A redrive and its progress' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, description: 'The redrive.', schema: openApiSchema(redriveSchema, 'output') })
  @ApiResponse(errorResponse(404, 'No such redrive.'))
  @AdminErrorResponses()
  async redrive(@Param('id') id: string) {
    const redrive = await this.ops.redriver.get(id);
    if (!redrive) throw notFound(`no redrive ${id}`);
    return redrive;
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One dead letter',
    description: 'Payload, key, headers and the failure metadata the runtime recorded.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({
    status: 200,
    description: 'The dead letter.',
    schema: openApiSchema(deadLetterViewSchema, 'output'),
  })
  @ApiResponse(errorResponse(404, 'No such dead letter.'))
  @AdminErrorResponses()
  async get(@Param('id') id: string): Promise<DeadLetterView> {
    const dead = await this.ops.deadLetters.get(id);
    if (!dead) throw notFound(`no dead letter ${id}`);
    return toView(dead, this.ops.jaegerUrl(dead.traceId));
  }

  @Post('redrive')
  @ApiOperation({
    summary: 'Redrive dead letters into the failing consumer group only',
    description:
      "Sends DEAD records (by `ids`, or every one matching `filter`) to their topic's retry companion, addressed " +
      'to the group that failed them: the other groups never see them again. Key, value, event id and traceparent ' +
      'are kept, per-key order too; `x-redrive-count` goes up, and a record back in the DLQ past OPS_REDRIVE_CAP is ' +
      'parked. `dryRun` answers what would be redriven. 200 when it finished within 2 s, else 202 RUNNING: follow ' +
      'GET /v1/admin/dlq/redrives/{id}. Audited.',
  })
  @ApiBody({ schema: openApiSchema(redriveBodySchema) })
  @ApiResponse({
    status: 200,
    description: 'Dry run, or a finished redrive.',
    schema: openApiSchema(redrivePreviewSchema, 'output'),
  })
  @ApiResponse({
    status: 202,
    description: 'The redrive is running.',
    schema: openApiSchema(redriveSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(400, 'Neither or both of ids and filter, a bad filter or rate (VALIDATION_FAILED).'),
  )
  @AdminErrorResponses()
  @HttpCode(200)
  async redriveMany(
    @CurrentUser() user: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = parseInput(redriveBodySchema, body, 'body');
    const selection = toSelection(request);
    try {
      if (request.dryRun) return await this.ops.redriver.preview(selection, user.userId);
      const { redrive, done } = await this.ops.redriver.start(selection, user.userId, request.ratePerSecond);
      const finished = await Promise.race([
        done,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), ANSWER_WITHIN_MS).unref()),
      ]);
      if (finished) return finished;
      void reply.status(202).header('location', `/v1/admin/dlq/redrives/${redrive.id}`);
      return redrive;
    } catch (error) {
      asApiError(error);
    }
  }

  @Post('discard')
  @ApiOperation({
    summary: 'Discard dead letters with a reason',
    description: 'DEAD or PARKED records only; audited.',
  })
  @ApiBody({ schema: openApiSchema(discardBodySchema) })
  @ApiResponse({
    status: 200,
    description: 'How many were discarded.',
    schema: openApiSchema(discardResultSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'No reason, or neither or both of ids and filter (VALIDATION_FAILED).'))
  @AdminErrorResponses()
  @HttpCode(200)
  async discard(@CurrentUser() user: Principal, @Body() body: unknown) {
    const request = parseInput(discardBodySchema, body, 'body');
    try {
      return { discarded: await this.ops.discard(toSelection(request), user.userId, request.reason) };
    } catch (error) {
      asApiError(error);
    }
  }
}
