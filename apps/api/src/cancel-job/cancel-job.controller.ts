import { Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { errorResponse, openApiSchema } from '../http/openapi';
import { parseJobId } from '../jobs/jobs.repository';
import { jobViewSchema, toJobView, type JobView } from '../jobs/jobs.schemas';
import { CancelJob } from './cancel-job.use-case';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
@UseGuards(AuthGuard)
export class CancelJobController {
  constructor(@Inject(CancelJob) private readonly cancelJob: CancelJob) {}

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a job of the caller',
    description:
      'PENDING or PROCESSING → CANCELLED (subscribers get `job_failed` with error "cancelled by its owner"; a ' +
      'running worker stops at its next lease renewal). A finished job answers 409 with its status.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Job id.' })
  @ApiResponse({ status: 200, description: 'Cancelled.', schema: openApiSchema(jobViewSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such job (or another user's)."))
  @ApiResponse(
    errorResponse(409, 'JOB_FINISHED: already COMPLETED, FAILED or CANCELLED (status in details).'),
  )
  async cancel(@CurrentUser() user: Principal, @Param('id') id: string): Promise<JobView> {
    return toJobView(await this.cancelJob.run(parseJobId(id), user.userId));
  }
}
