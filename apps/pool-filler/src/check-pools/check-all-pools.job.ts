import { type DataSource, sqlOf, type Sql } from '@fleet/db';
import { type JobAttempt, type JobKind } from '@fleet/job-worker';
import { currentTraceparent } from '@fleet/outbox';
import { type PoolLevel, type PoolName, type PoolStore } from '@fleet/pools';
import { type PoolMetrics } from '../pools/pool.metrics';

export interface CheckAllPoolsResult {
  /** Pools looked at: the four global ones and each active campaign's POIs. */
  checked: number;
  enqueued: Array<{ pool: PoolName; campaignSeed?: string; jobId: string; available: number }>;
  /** Below their minimum but already being refilled: nothing new enqueued. */
  alreadyRefilling: Array<{ pool: PoolName; campaignSeed?: string }>;
}

/**
 * `check_all_pools` (seed 001, hourly): measures every pool — every active campaign's POI pool
 * included — and enqueues exactly the refills needed: one batch for each pool below its minimum
 * that has no generation job waiting or running (operators' jobs count too). The refill itself is
 * deduplicated in the database (`pool_refill_if_low`, one active job per pool), so two checks
 * racing on two replicas still enqueue one.
 */
export class CheckAllPools implements JobKind {
  readonly kind = 'check_all_pools';
  private readonly sql: Sql;

  constructor(private readonly deps: { dataSource: DataSource; store: PoolStore; metrics: PoolMetrics }) {
    this.sql = sqlOf(deps.dataSource.manager);
  }

  async run({ progress }: JobAttempt): Promise<CheckAllPoolsResult> {
    const levels = await this.deps.store.levels(this.sql);
    await progress(50, 'check');
    const result: CheckAllPoolsResult = { checked: levels.length, enqueued: [], alreadyRefilling: [] };
    const traceparent = currentTraceparent();
    for (const level of levels.filter((l: PoolLevel) => l.available < l.minSize)) {
      const where = { pool: level.pool, ...(level.campaignSeed ? { campaignSeed: level.campaignSeed } : {}) };
      if (level.pendingJobs + level.runningJobs > 0) {
        result.alreadyRefilling.push(where);
        continue;
      }
      const jobId = await this.deps.store.refillIfLow(
        this.sql,
        level.pool,
        level.available,
        level.campaignSeed,
        traceparent,
      );
      if (jobId) {
        result.enqueued.push({ ...where, jobId, available: level.available });
        this.deps.metrics.refills.inc({ pool: level.pool, trigger: 'check' });
      }
    }
    return result;
  }
}
