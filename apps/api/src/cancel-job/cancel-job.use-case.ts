import { Inject, Injectable } from '@nestjs/common';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore, type Job } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { ApiError, notFound } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { JobEventStreams } from '../jobs/job-event-streams';

/**
 * The owner cancels a PENDING or PROCESSING job (`JobStore.cancel`: one conditional UPDATE, so a
 * worker finishing at the same moment either wins — 409 — or loses its write), then its
 * `job_failed` event ("cancelled by its owner") goes to the job's subscribers. A running worker
 * learns it at its next lease renewal and stops.
 */
@Injectable()
export class CancelJob {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(JobEventStreams) private readonly streams: JobEventStreams,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async run(jobId: string, ownerId: string): Promise<Job> {
    const outcome = await this.jobs.cancel(sqlOf(this.dataSource.manager), jobId, ownerId);
    switch (outcome.outcome) {
      case 'not_found':
        throw notFound(`job ${jobId} not found`);
      case 'finished':
        throw new ApiError(
          409,
          'JOB_FINISHED',
          `the job is already ${outcome.job.status}; only PENDING or PROCESSING jobs can be cancelled`,
          { status: outcome.job.status },
        );
      case 'cancelled':
        break;
    }
    this.metrics.jobsCancelled.inc({ kind: outcome.job.kind });
    try {
      await this.streams.events.emit(outcome.job, { type: 'job_failed' });
    } catch (error) {
      // The row is the truth: a client that missed the event reads CANCELLED from the job.
      this.logger.warn({ err: error, jobId }, 'job cancelled but its job_failed event was not published');
    }
    return outcome.job;
  }
}
