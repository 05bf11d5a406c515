import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore, type Job } from '@fleet/jobs';
import { type ObjectStore } from '@fleet/object-store';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { DATA_SOURCE, OBJECT_STORE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { type Config } from '../config';
import { errorResponse, openApiSchema } from '../http/openapi';
import { ownJob, parseJobId } from '../jobs/jobs.repository';
import {
  JOB_KINDS,
  jobViewSchema,
  mapArtifactKeys,
  toJobView,
  type ArtifactDownload,
  type JobView,
} from '../jobs/jobs.schemas';

const ARTIFACT_TYPES = { json: 'application/json', svg: 'image/svg+xml' } as const;

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
@UseGuards(AuthGuard)
export class GetJobController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  @Get(':id')
  @ApiOperation({
    summary: 'A job of the caller',
    description:
      'Status, kind, progress and stage, attempts, result, error and timestamps. A COMPLETED map_generation ' +
      'job also gets `downloads`: presigned URLs of its artifacts (valid JOB_ARTIFACT_URL_TTL_SECONDS).',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'Job id.' })
  @ApiResponse({ status: 200, description: 'The job.', schema: openApiSchema(jobViewSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Malformed id (INVALID_ID).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such job (or another user's)."))
  async get(@CurrentUser() user: Principal, @Param('id') id: string): Promise<JobView> {
    const job = await ownJob(this.jobs, sqlOf(this.dataSource.manager), parseJobId(id), user.userId);
    return toJobView(job, await this.downloads(job));
  }

  /** Presigned GETs of a completed map's artifacts; the bytes never pass through the api. */
  private async downloads(job: Job): Promise<JobView['downloads']> {
    if (job.kind !== JOB_KINDS.mapGeneration || job.status !== 'COMPLETED') return undefined;
    const keys = mapArtifactKeys(job.result);
    const ttl = this.config.JOB_ARTIFACT_URL_TTL_SECONDS;
    // Whole seconds before signing (the signature's date has no fraction): the URL stays valid at
    // least until the expiry announced.
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000).toISOString();
    const downloads: { json?: ArtifactDownload; svg?: ArtifactDownload } = {};
    for (const format of ['json', 'svg'] as const) {
      const key = keys[format];
      if (key === undefined) continue;
      const url = await this.objects.presignedDownload(key, ttl, {
        filename: `map-${job.id}.${format}`,
        contentType: ARTIFACT_TYPES[format],
      });
      downloads[format] = { url, expiresAt };
    }
    return downloads;
  }
}
