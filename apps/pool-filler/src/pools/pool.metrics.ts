import { sqlOf, type DataSource } from '@fleet/db';
import { type PoolName, type PoolStore, type RejectionReason } from '@fleet/pools';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The reasons each pool's items can be refused for (range checks exist for quests and encounters). */
const REJECTION_REASONS: Record<PoolName, readonly RejectionReason[]> = {
  quests: ['invalid_item', 'duplicate', 'level_out_of_range', 'reward_out_of_range'],
  npcs: ['invalid_item', 'duplicate'],
  pois: ['invalid_item', 'duplicate'],
  encounters: ['invalid_item', 'duplicate', 'cr_out_of_range'],
  dungeons: ['invalid_item', 'duplicate'],
};

export interface PoolMetrics {
  generated: Counter<'pool'>;
  rejected: Counter<'pool' | 'reason'>;
  tokensPerItem: Histogram<'pool'>;
  refills: Counter<'pool' | 'trigger'>;
}

/**
 * Per pool: what the pool-filler made and refused, and — read from the database at each scrape, so
 * every replica reports the same truth — how full each pool is, its minimum and what was claimed.
 * Claims themselves are counted where they happen (the api's `pool_claims_total`).
 */
export function poolMetrics(
  registry: Registry,
  levels: { store: PoolStore; dataSource: DataSource },
): PoolMetrics {
  const registers = [registry];
  const available = new Gauge({
    name: 'pool_items_available',
    help: 'Items waiting in each pool (POIs per campaign), read from the database at scrape time.',
    labelNames: ['pool', 'campaign'],
    registers,
    // One query at scrape time fills all four gauges (the others are declared below; a scrape only
    // happens after this function returned).
    collect: () => collect(),
  });
  const minimum = new Gauge({
    name: 'pool_items_minimum',
    help: 'Each pool’s configured minimum size (POOL_<POOL>_MIN): below it a refill is enqueued.',
    labelNames: ['pool', 'campaign'],
    registers,
  });
  const claimed = new Gauge({
    name: 'pool_items_claimed',
    help: 'Items claimed so far from each pool (they stay in the table, used = true).',
    labelNames: ['pool', 'campaign'],
    registers,
  });
  const pending = new Gauge({
    name: 'pool_refill_jobs',
    help: 'Generation jobs of each pool waiting or running (queue depth per pool).',
    labelNames: ['pool', 'campaign', 'status'],
    registers,
  });
  // A failing database leaves the gauges as they were (readiness reports it, not the scrape).
  async function collect(): Promise<void> {
    const rows = await levels.store.levels(sqlOf(levels.dataSource.manager)).catch(() => undefined);
    if (!rows) return;
    for (const g of [available, minimum, claimed, pending]) g.reset();
    for (const row of rows) {
      const labels = { pool: row.pool, campaign: row.campaignSeed ?? '' };
      available.set(labels, row.available);
      minimum.set(labels, row.minSize);
      claimed.set(labels, row.claimed);
      pending.set({ ...labels, status: 'pending' }, row.pendingJobs);
      pending.set({ ...labels, status: 'running' }, row.runningJobs);
    }
  }
  const rejected = new Counter({
    name: 'pool_items_rejected_total',
    help: 'Generated items refused and regenerated, by pool and reason (invalid_item, duplicate, level_out_of_range, reward_out_of_range, cr_out_of_range).',
    labelNames: ['pool', 'reason'],
    registers,
  });
  // Every reason a pool can give exported from the start: dashboards see 0, not "no data".
  for (const [pool, reasons] of Object.entries(REJECTION_REASONS))
    for (const reason of reasons) rejected.inc({ pool, reason }, 0);
  return {
    generated: new Counter({
      name: 'pool_items_generated_total',
      help: 'Items generated and stored, by pool.',
      labelNames: ['pool'],
      registers,
    }),
    rejected,
    tokensPerItem: new Histogram({
      name: 'pool_tokens_per_item',
      help: 'LLM tokens (prompt + completion) per stored item of one generation call, by pool.',
      labelNames: ['pool'],
      buckets: [25, 50, 100, 200, 400, 800, 1600, 3200],
      registers,
    }),
    refills: new Counter({
      name: 'pool_refills_enqueued_total',
      help: 'Refill jobs the pool check enqueued, by pool.',
      labelNames: ['pool', 'trigger'],
      registers,
    }),
  };
}
