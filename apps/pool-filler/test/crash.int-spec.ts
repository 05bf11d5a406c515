import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AppProcess } from '@fleet/service-kit/testing';
import { PoolFixture, sleep } from './harness';

describe('pool-filler: killed in the middle of a batch', () => {
  let fx: PoolFixture;
  const workers: AppProcess[] = [];

  before(async () => {
    // One batch of 10 quests, 2 per call: five calls of ~1.5 s each on the slow fake GPU.
    fx = await PoolFixture.create({
      sizes: { quests: { minSize: 10, batchSize: 10 } },
      llm: { tokensPerSecond: 400 },
    });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await fx?.close();
  });

  async function start(): Promise<AppProcess> {
    // A short lease and session: a killed worker's job is reaped within seconds.
    const worker = await fx.startWorker({
      POOL_ITEMS_PER_CALL: '2',
      JOB_LEASE_MS: '3000',
      POOL_FILLER_SESSION_TIMEOUT_MS: '6000',
    });
    workers.push(worker);
    return worker;
  }

  async function storedOf(jobId: string): Promise<number[]> {
    const rows = await fx
      .sql()
      .rows<{ item_index: number }>('SELECT item_index FROM quest_templates WHERE job_id = $1 ORDER BY 1', [
        jobId,
      ]);
    return rows.map((r) => r.item_index);
  }

  test('SIGKILLed twice mid-batch: the pool ends at exactly its target, the job ran on one worker at a time, no index twice', async () => {
    const first = await start();
    const check = await fx.enqueue('check_all_pools', null, 1);
    await fx.waitForJob(check, ['COMPLETED']);
    const job = await fx.waitUntil(
      async () => (await fx.poolJobs()).find((j) => j.kind === 'generate_quests'),
      20_000,
      () => 'no refill job',
    );

    const kills: Array<{ worker: AppProcess; at: number; stored: number }> = [];
    for (let round = 0; round < 2; round++) {
      const worker = round === 0 ? first : await start();
      const before = (await storedOf(job.id)).length;
      // Kill once this worker has stored at least two more items, mid-way through the batch.
      await fx.waitUntil(
        async () => (await storedOf(job.id)).length >= before + 2,
        60_000,
        () => `worker ${worker.child.pid} stored nothing`,
      );
      await worker.stop('SIGKILL');
      kills.push({ worker, at: Date.now(), stored: (await storedOf(job.id)).length });
    }
    assert.ok(kills[1]!.stored < 10, 'the second kill was still mid-batch');

    const last = await start();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 90_000);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 3, 'two killed attempts and the one that finished');
    await fx.waitUntil(
      async () => (await fx.poolJobs()).every((j) => j.status === 'COMPLETED'),
      30_000,
      () => 'jobs still running',
    );

    assert.deepEqual(
      await storedOf(job.id),
      [...Array(10).keys()],
      'each index once: only the missing ones were made',
    );
    assert.equal(
      await fx.available('quests'),
      10,
      'exactly the target: nothing made twice, nothing beyond the batch',
    );
    assert.equal(await fx.itemCount('quests'), 10);
    const result = done.result as { storedThisAttempt: number };
    assert.equal(result.storedThisAttempt, 10 - kills[1]!.stored, 'the last attempt made only the rest');

    // One worker at a time: each attempt started after the previous holder was killed.
    const startedAt = (w: AppProcess) =>
      w
        .logs()
        .filter((l) => l.message === 'job started' && l.jobId === job.id)
        .map((l) => Date.parse(l.timestamp as string));
    const [s1, s2, s3] = [startedAt(kills[0]!.worker), startedAt(kills[1]!.worker), startedAt(last)];
    assert.equal(s1.length + s2.length + s3.length, 3, 'three attempts in all, one per worker');
    assert.ok(s2[0]! > kills[0]!.at, 'the second worker took the job after the first was killed');
    assert.ok(s3[0]! > kills[1]!.at, 'the third worker took the job after the second was killed');
    assert.ok(
      last.logs().some((l) => l.message === 'reaped a job; requeued' && l.jobId === job.id) ||
        kills[1]!.worker.logs().some((l) => l.message === 'reaped a job; requeued' && l.jobId === job.id),
      'the reaper took the killed attempts back',
    );
    assert.ok(((await last.metric('pool_filler_jobs_reaped_total', { outcome: 'requeued' })) ?? 0) >= 1);
    await sleep(0);
  });
});
