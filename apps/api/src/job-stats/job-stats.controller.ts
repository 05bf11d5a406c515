import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard } from '../auth/auth.guard';
import { errorResponse, openApiSchema } from '../http/openapi';
import { jobStatsSchema, toJobStatsView, type JobStatsView } from '../jobs/jobs.schemas';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
@UseGuards(AuthGuard)
export class JobStatsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
  ) {}

  /**
   * Global on purpose: how busy the platform is (queue depth per kind) is what a user waiting for
   * a job wants to know, and counts reveal no one's jobs. Finished jobs count as far as retention
   * kept them (JOB_KEEP_COMPLETED / JOB_KEEP_FAILED per kind).
   */
  @Get('stats')
  @ApiOperation({
    summary: 'Job counts per kind and status, over all users',
    description:
      'total, pending, processing, completed, failed, cancelled per kind, for every user together (queue ' +
      "depth; no ids). Finished jobs are counted as far as the worker's retention kept them.",
  })
  @ApiResponse({ status: 200, description: 'Stats.', schema: openApiSchema(jobStatsSchema, 'output') })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  async stats(): Promise<JobStatsView> {
    return toJobStatsView(await this.jobs.stats(sqlOf(this.dataSource.manager)));
  }
}
