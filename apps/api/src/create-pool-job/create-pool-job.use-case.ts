import { Inject, Injectable } from '@nestjs/common';
import { sqlOf, type DataSource } from '@fleet/db';
import { currentTraceparent } from '@fleet/outbox';
import { PoolStore } from '@fleet/pools';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type ApiMetrics } from '../http/api.metrics';
import { rethrowPoolArgument } from '../pools/pool-argument';
import { type CreatedPoolJob, type CreatePoolJobInput } from '../pools/pools.schemas';

/**
 * Enqueues one of the seed's worker jobs for the pool-filler, through the same SQL function the
 * seed's `SELECT enqueue_worker_job(…)` calls: the job row and its `pool.job.requested.1` outbox row
 * in one transaction, the parameters checked once more in the database (the count cap, the
 * campaign). A `check_all_pools` while one is already waiting answers that one.
 */
@Injectable()
export class CreatePoolJob {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(PoolStore) private readonly store: PoolStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {}

  async run(ownerId: string, input: CreatePoolJobInput): Promise<CreatedPoolJob> {
    const jobId = await this.store
      .enqueueJob(sqlOf(this.dataSource.manager), {
        kind: input.jobType,
        params: input.params,
        priority: input.priority,
        ownerId,
        traceparent: currentTraceparent(),
      })
      .catch(rethrowPoolArgument);
    this.metrics.jobsCreated.inc({ kind: input.jobType });
    return { jobId, jobType: input.jobType, priority: input.priority };
  }
}
