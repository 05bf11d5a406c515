import { Body, Controller, HttpCode, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { AuthGuard, CurrentUser, ScopeGuard } from '../auth/auth.guard';
import { OPERATOR_SCOPE, type Principal } from '../auth/jwt-verifier';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { createdPoolJobSchema, createPoolJobSchema, type CreatedPoolJob } from '../pools/pools.schemas';
import { CreatePoolJob } from './create-pool-job.use-case';

@ApiTags('pools')
@ApiBearerAuth()
@Controller('v1/pool-jobs')
@UseGuards(AuthGuard, new ScopeGuard(OPERATOR_SCOPE))
export class CreatePoolJobController {
  constructor(@Inject(CreatePoolJob) private readonly createPoolJob: CreatePoolJob) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Enqueue a pool-filler job (operators)',
    description:
      "One of the seed's worker jobs — check_all_pools, generate_quests, generate_npcs, generate_encounters, " +
      'generate_dungeons, generate_pois, summarize_session — with its parameters and priority (1 highest – 10). ' +
      `Requires the "${OPERATOR_SCOPE}" scope. Follow the job at GET /v1/jobs/{jobId} (the Location header).`,
  })
  @ApiBody({ schema: openApiSchema(createPoolJobSchema) })
  @ApiResponse({
    status: 202,
    description: 'Enqueued.',
    schema: openApiSchema(createdPoolJobSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(
      400,
      'VALIDATION_FAILED naming the field (unknown jobType; params of another job type; count below 1 or above ' +
        'POOL_MAX_JOB_COUNT; inverted level_range or cr_range; unknown campaign_seed; priority outside 1–10).',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${OPERATOR_SCOPE}" scope.`))
  async create(
    @CurrentUser() user: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedPoolJob> {
    const created = await this.createPoolJob.run(user.userId, parseInput(createPoolJobSchema, body, 'body'));
    void reply.header('location', `/v1/jobs/${created.jobId}`);
    return created;
  }
}
