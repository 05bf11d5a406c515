/**
 * Benchmark (not a test): does the generation worker keep the one GPU busy while jobs wait?
 *
 *   npm run bench:generation     (servers from tools/infra; JOBS=50 TOKENS_PER_SECOND=40
 *                                 MODEL_LOAD_MS=2000 by default)
 *
 * In one run, in a fresh schema (the api's tables), topic namespace, group and bucket:
 *  1. the fake LLM in this process simulating one GPU at TOKENS_PER_SECOND (first call pays
 *     MODEL_LOAD_MS), answering story enhancements with schema-sampled values;
 *  2. the bundled outbox-poller and one bundled generation worker with its defaults
 *     (WORKER_CONCURRENCY=1, LLM_MAX_CONCURRENCY=1);
 *  3. JOBS stories with their enhancement jobs created at once (row + outbox request each, as the
 *     api does), so the queue is full from the start; then wait until every job is COMPLETED.
 * Window: from the first job's start (`started_at`) to the last job's end (`finished_at`): jobs are
 * waiting during all of it. Prints the fraction of that window the fake's GPU was busy (its own
 * busy-time accounting; goal ≥ 0.95), jobs per minute, the LLM time per job, and the gaps between
 * one GPU request ending and the next starting (the worker's overhead per job).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { generationJobRequested, inNamespace } from '@fleet/contracts';
import { sqlOf } from '@fleet/db';
import { createTestSchema } from '@fleet/db/testing';
import { JOB_MIGRATIONS, JobStore } from '@fleet/jobs';
import { FakeLlmServer } from '@fleet/llm/testing';
import { createTestBucket } from '@fleet/object-store/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { AppProcess } from '@fleet/service-kit/testing';
import { localScores, STORY_MIGRATIONS, StoryStore } from '@fleet/stories';
import { UPLOAD_MIGRATIONS } from '@fleet/uploads';

const JOBS = Number(process.env.JOBS ?? 50);
const TOKENS_PER_SECOND = Number(process.env.TOKENS_PER_SECOND ?? 40);
const MODEL_LOAD_MS = Number(process.env.MODEL_LOAD_MS ?? 2_000);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODEL = 'fake-7b-instruct';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const db = await createTestSchema({
    url: DATABASE_URL,
    migrations: [...OUTBOX_MIGRATIONS, ...JOB_MIGRATIONS, ...STORY_MIGRATIONS, ...UPLOAD_MIGRATIONS],
  });
  const bucket = await createTestBucket();
  const llm = await FakeLlmServer.start({
    models: [MODEL],
    tokensPerSecond: TOKENS_PER_SECOND,
    modelLoadDelayMs: MODEL_LOAD_MS,
  });
  const processes: AppProcess[] = [];
  try {
    const poller = await AppProcess.start({
      app: 'outbox-poller',
      env: { DATABASE_URL, DATABASE_SCHEMA: db.schema, KAFKA_BROKERS, REDIS_URL, LOG_LEVEL: 'warn' },
    });
    processes.push(poller);
    const worker = await AppProcess.start({
      app: 'generation',
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: db.schema,
        KAFKA_BROKERS,
        KAFKA_TOPIC_NAMESPACE: namespace,
        REDIS_URL,
        GENERATION_GROUP: `generation-${namespace}`,
        LOCAL_LLM_ENDPOINT: llm.url,
        LOCAL_LLM_MODEL: MODEL,
        LOG_LEVEL: 'warn',
        ...bucket.env,
      },
    });
    processes.push(worker);
    await poller.waitForHealth('/health/live', 60_000);
    await worker.waitForHealth('/health/ready', 60_000);

    const topic = inNamespace(generationJobRequested, namespace);
    const jobs = new JobStore();
    const stories = new StoryStore();
    const ids: string[] = [];
    await db.dataSource.transaction(async (tx) => {
      for (let i = 0; i < JOBS; i++) {
        const storyId = randomUUID();
        const jobId = randomUUID();
        const title = `Benchmark story ${i}: a lab shows a faster battery`;
        const content = `Story ${i}. Researchers report a battery that charges in minutes. `.repeat(4);
        await stories.create(sqlOf(tx), {
          id: storyId,
          ownerId: 'bench',
          title,
          content,
          ...localScores({ title, content }),
          enhancementJobId: jobId,
        });
        await jobs.create(
          tx,
          { id: jobId, kind: 'story_enhancement', ownerId: 'bench', input: { storyId } },
          topic,
        );
        ids.push(jobId);
      }
    });
    console.log(
      `${JOBS} story jobs queued; fake GPU at ${TOKENS_PER_SECOND} tokens/s, model load ${MODEL_LOAD_MS} ms`,
    );

    const sql = sqlOf(db.dataSource.manager);
    const deadline = Date.now() + 30 * 60_000;
    let rows: Array<{ status: string; started_at: Date | null; finished_at: Date | null; attempts: number }> =
      [];
    for (;;) {
      rows = await sql.rows(
        `SELECT status, started_at, finished_at, attempts FROM jobs WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const finished = rows.filter((r) => r.status === 'COMPLETED' || r.status === 'FAILED').length;
      if (finished === JOBS) break;
      if (Date.now() > deadline) throw new Error(`only ${finished} of ${JOBS} jobs finished in 30 min`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const failed = rows.filter((r) => r.status !== 'COMPLETED').length;
    const first = Math.min(...rows.map((r) => r.started_at!.getTime()));
    const last = Math.max(...rows.map((r) => r.finished_at!.getTime()));
    const windowMs = last - first;
    const busyMs = llm.busyMsBetween(first, last);
    const calls = llm.calls.filter((c) => c.startedAt !== undefined && c.finishedAt !== undefined);
    const byStart = [...calls].sort((a, b) => a.startedAt! - b.startedAt!);
    const gaps = byStart.slice(1).map((c, i) => Math.max(0, c.startedAt! - byStart[i]!.finishedAt!));
    const callMs = calls.map((c) => c.finishedAt! - c.startedAt!);

    console.log('');
    console.log(
      `jobs:                 ${JOBS - failed} COMPLETED, ${failed} not (attempts > 1: ${rows.filter((r) => r.attempts > 1).length})`,
    );
    console.log(
      `LLM calls:            ${calls.length} (overlapping at the fake: max ${llm.maxOpenAtOnce} open at once)`,
    );
    console.log(
      `window:               ${(windowMs / 1000).toFixed(1)} s (first job started → last job finished)`,
    );
    console.log(`GPU busy:             ${(busyMs / 1000).toFixed(1)} s`);
    console.log(`GPU busy fraction:    ${(busyMs / windowMs).toFixed(4)}  (goal ≥ 0.95)`);
    console.log(`throughput:           ${((JOBS / windowMs) * 60_000).toFixed(2)} jobs/min`);
    console.log(
      `LLM time per call:    p50 ${percentile(callMs, 50).toFixed(0)} ms, p90 ${percentile(callMs, 90).toFixed(0)} ms, mean completion ${(calls.reduce((s, c) => s + c.completionTokens, 0) / Math.max(1, calls.length)).toFixed(0)} tokens`,
    );
    console.log(
      `GPU idle between calls: p50 ${percentile(gaps, 50).toFixed(0)} ms, p90 ${percentile(gaps, 90).toFixed(0)} ms, max ${Math.max(0, ...gaps).toFixed(0)} ms`,
    );
    console.log(`worker log:           ${worker.logFile}`);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await llm.stop();
    await db.drop();
    await bucket.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
