/**
 * Benchmark (not a test): a full pool check from empty on one (fake) GPU.
 *
 *   npm run bench:pool-fill      (servers from tools/infra; TOKENS_PER_SECOND=40,
 *                                 PROMPT_TOKENS_PER_SECOND=400, REPLICAS=2, ITEMS_PER_CALL=5)
 *
 * In one run, in a fresh schema migrated by the api's migrate command, topic namespace and group:
 *  1. the fake LLM in this process simulating one GPU (one request at a time, TOKENS_PER_SECOND
 *     completion tokens/s, PROMPT_TOKENS_PER_SECOND prompt tokens/s), answering with
 *     schema-sampled items;
 *  2. the bundled outbox-poller and REPLICAS bundled pool-filler workers with the seed's pool sizes
 *     (quests 20/10, NPCs 30/15, POIs 50/25 for each of 2 campaigns, encounters 30/15, dungeons
 *     10/5) and their defaults otherwise;
 *  3. one `check_all_pools`, then wait until every pool holds its minimum and no job is left.
 * Prints the wall time, the GPU-busy fraction of the fill (the fake's own accounting, from the
 * check's enqueue to the last job's end; goal ≥ 0.95), and per pool the tokens per stored item
 * against a naive run of the same pool with one item per call (POOL_ITEMS_PER_CALL=1: the same
 * prompts, servers and validation, run in the same process right after, one batch per pool).
 */
import { POOL_DEFAULTS, POOLS, type PoolName } from '@fleet/pools';
import { type AppProcess } from '@fleet/service-kit/testing';
import { PoolFixture, sleep } from '../../apps/pool-filler/test/harness';

const TOKENS_PER_SECOND = Number(process.env.TOKENS_PER_SECOND ?? 40);
const PROMPT_TOKENS_PER_SECOND = Number(process.env.PROMPT_TOKENS_PER_SECOND ?? 400);
const REPLICAS = Number(process.env.REPLICAS ?? 2);
const ITEMS_PER_CALL = process.env.ITEMS_PER_CALL ?? '5';
const CAMPAIGNS = ['north', 'south'];

interface PoolTokens {
  items: number;
  tokens: number;
}

/** Tokens per stored item of each pool, from the finished generation jobs' results. */
async function tokensByPool(fx: PoolFixture): Promise<Record<string, PoolTokens>> {
  const out: Record<string, PoolTokens> = {};
  for (const job of await fx.poolJobs()) {
    if (!job.kind.startsWith('generate_') || job.status !== 'COMPLETED') continue;
    const r = job.result as { storedThisAttempt: number; promptTokens: number; completionTokens: number };
    const pool = job.kind.replace('generate_', '');
    out[pool] ??= { items: 0, tokens: 0 };
    out[pool].items += r.storedThisAttempt;
    out[pool].tokens += r.promptTokens + r.completionTokens;
  }
  return out;
}

async function fill(options: {
  itemsPerCall: string;
  tokensPerSecond: number;
  sizes: Record<PoolName, { minSize: number; batchSize: number }>;
  replicas: number;
}) {
  const fx = await PoolFixture.create({
    sizes: options.sizes,
    llm: { tokensPerSecond: options.tokensPerSecond, promptTokensPerSecond: PROMPT_TOKENS_PER_SECOND },
  });
  const workers: AppProcess[] = [];
  try {
    for (const seed of CAMPAIGNS) await fx.campaign(seed);
    for (let i = 0; i < options.replicas; i++) {
      workers.push(await fx.startWorker({ POOL_ITEMS_PER_CALL: options.itemsPerCall, LOG_LEVEL: 'warn' }));
    }
    const started = Date.now();
    await fx.enqueue('check_all_pools', null, 1);
    await fx.waitUntil(
      async () => {
        const jobs = await fx.poolJobs();
        const levels = await fx.pools.levels(fx.sql());
        return (
          jobs.length > 1 &&
          jobs.every((j) => j.status === 'COMPLETED' || j.status === 'FAILED') &&
          (levels.every((l) => l.available >= l.minSize) || jobs.some((j) => j.status === 'FAILED'))
        );
      },
      3_600_000,
      () => 'the fill did not finish',
    );
    const jobs = await fx.poolJobs();
    const ended = Math.max(...jobs.map((j) => j.finishedAt!.getTime()));
    const busyMs = fx.llm.busyMsBetween(started, ended);
    const levels = await fx.pools.levels(fx.sql());
    return {
      wallMs: ended - started,
      busyFraction: busyMs / (ended - started),
      failed: jobs.filter((j) => j.status === 'FAILED').length,
      jobs: jobs.length,
      calls: fx.llm.calls.length,
      levels,
      tokens: await tokensByPool(fx),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await fx.close();
  }
}

async function main(): Promise<void> {
  const seedSizes = { ...POOL_DEFAULTS };
  console.log(
    `full pool check from empty: ${REPLICAS} pool-filler replicas, one fake GPU at ${TOKENS_PER_SECOND} tokens/s ` +
      `(prompt ${PROMPT_TOKENS_PER_SECOND}/s), ${ITEMS_PER_CALL} items per call, campaigns ${CAMPAIGNS.join(', ')}`,
  );
  const full = await fill({
    itemsPerCall: ITEMS_PER_CALL,
    tokensPerSecond: TOKENS_PER_SECOND,
    sizes: seedSizes,
    replicas: REPLICAS,
  });
  console.log(
    `  wall time            ${(full.wallMs / 1000).toFixed(1)} s (${full.jobs} jobs, ${full.calls} LLM calls, ${full.failed} failed)`,
  );
  console.log(`  GPU busy fraction    ${full.busyFraction.toFixed(3)} (goal >= 0.95)`);
  for (const level of full.levels) {
    console.log(
      `  ${level.pool.padEnd(10)} ${(level.campaignSeed ?? '').padEnd(6)} ${String(level.available).padStart(4)} available / minimum ${level.minSize}`,
    );
  }

  // The naive reference: one batch of each pool, one item per call. Token counts do not depend on
  // the GPU's speed, so it runs fast; the fill's own tokens are compared per item.
  const oneBatch = Object.fromEntries(
    POOLS.map((p) => [p, { minSize: seedSizes[p].batchSize, batchSize: seedSizes[p].batchSize }]),
  ) as Record<PoolName, { minSize: number; batchSize: number }>;
  const naive = await fill({ itemsPerCall: '1', tokensPerSecond: 100_000, sizes: oneBatch, replicas: 1 });
  console.log('  tokens per stored item (prompt + completion), batched vs one item per call:');
  for (const pool of POOLS) {
    const b = full.tokens[pool];
    const n = naive.tokens[pool];
    if (!b || !n) continue;
    const batched = b.tokens / b.items;
    const single = n.tokens / n.items;
    console.log(
      `  ${pool.padEnd(10)} ${batched.toFixed(0).padStart(5)} vs ${single.toFixed(0).padStart(5)}   ratio ${(batched / single).toFixed(2)}`,
    );
  }
  await sleep(0);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
