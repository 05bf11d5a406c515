import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  defineTopic,
  generationJobRequested,
  jobRequestSchema,
  type JobRequest,
  type TopicContract,
} from '@fleet/contracts';
import { sqlOf, type EntityManager, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { JOB_MIGRATIONS, JobError, JobStore, type Job, type NewJob, type ReapOptions } from './index';
import { expireLease } from './testing';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const store = new JobStore();
const LEASE_MS = 30_000;
const poolTopic = defineTopic({
  name: 'test.jobs.pool.requested.1',
  schema: jobRequestSchema,
  description: 'pool jobs (test)',
});
const TOPICS = { story_enhancement: generationJobRequested, map_generation: generationJobRequested };

interface OutboxRow {
  aggregate_key: string;
  topic: string;
  event_type: string;
  payload: { jobId: string; kind: string; requestedAt: string };
}

describe('job store on a real PostgreSQL', () => {
  let db: TestSchema;
  let sql: Sql;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS, ...JOB_MIGRATIONS] });
    sql = sqlOf(db.dataSource.manager);
  });
  beforeEach(async () => {
    await db.dataSource.query('TRUNCATE jobs, outbox_events');
  });
  after(() => db.drop());

  const create = async (job: Partial<NewJob> = {}, topic = generationJobRequested): Promise<Job> =>
    db.dataSource.transaction(async (tx) => {
      const created = await store.create(
        tx,
        { kind: 'story_enhancement', ownerId: 'alice', input: { storyId: 's1' }, ...job },
        topic,
      );
      return created.job;
    });
  const outboxRows = (jobId?: string) =>
    db.dataSource.query<OutboxRow[]>(
      `SELECT aggregate_key, topic, event_type, payload FROM outbox_events
        WHERE $1::text IS NULL OR aggregate_key = $1 ORDER BY seq`,
      [jobId ?? null],
    );
  const reap = (options: ReapOptions = {}, topics: Record<string, TopicContract<JobRequest>> = TOPICS) =>
    db.dataSource.transaction((tx: EntityManager) => store.reapExpired(tx, topics, options));
  const jobError = (code: string) => (error: unknown) => error instanceof JobError && error.code === code;

  test('create writes the job and its request in the same transaction; a rollback leaves neither', async () => {
    const job = await create({ input: { storyId: 'abc' }, priority: 5 });
    assert.equal(job.status, 'PENDING');
    assert.equal(job.attempts, 0);
    assert.equal(job.maxAttempts, 3);
    assert.equal(job.lastEventSeq, 0);
    assert.deepEqual(job.input, { storyId: 'abc' });
    const rows = await outboxRows();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.aggregate_key, job.id, 'the Kafka key is the job id');
    assert.equal(rows[0]!.topic, 'generation.job.requested.1');
    assert.deepEqual(rows[0]!.payload, {
      jobId: job.id,
      kind: 'story_enhancement',
      requestedAt: job.createdAt.toISOString(),
    });

    await db.dataSource.manager.query('TRUNCATE jobs, outbox_events');
    await assert.rejects(
      db.dataSource.transaction(async (tx) => {
        await store.create(tx, { kind: 'map_generation', ownerId: 'bob', input: {} }, generationJobRequested);
        throw new Error('the request fails after the insert');
      }),
      /the request fails/,
    );
    assert.equal((await db.dataSource.query('SELECT id FROM jobs')).length, 0);
    assert.equal((await outboxRows()).length, 0);
  });

  test('create refuses a manager outside a transaction and bad input, writing nothing', async () => {
    await assert.rejects(
      store.create(
        db.dataSource.manager,
        { kind: 'story_enhancement', ownerId: 'alice', input: {} },
        generationJobRequested,
      ),
      jobError('JOB_NOT_IN_TRANSACTION'),
    );
    await assert.rejects(create({ kind: 'Story Enhancement' }), jobError('JOB_INVALID'));
    await assert.rejects(create({ maxAttempts: 0 }), jobError('JOB_INVALID'));
    await assert.rejects(create({ ownerId: '' }), jobError('JOB_INVALID'));
    await assert.rejects(create({ input: undefined }), jobError('JOB_INVALID'));
    assert.equal((await db.dataSource.query('SELECT id FROM jobs')).length, 0);
    assert.equal((await outboxRows()).length, 0);
  });

  test('of two claims racing for one job exactly one wins; the loser waits for the row and gets undefined', async () => {
    const job = await create();
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const first = await store.claim(sqlOf(runner.manager), job.id, 'w1', LEASE_MS);
      assert.equal(first?.status, 'PROCESSING');
      // The second claim blocks on the row lock of the uncommitted first one…
      let settled = false;
      const second = store.claim(sql, job.id, 'w2', LEASE_MS).finally(() => (settled = true));
      await sleep(200);
      assert.equal(settled, false, 'the second claim waits for the first transaction');
      await runner.commitTransaction();
      // …and then sees the job PROCESSING: nothing to claim.
      assert.equal(await second, undefined);
    } finally {
      await runner.release();
    }
    const stored = await store.get(sql, job.id);
    assert.equal(stored?.leaseOwner, 'w1');
    assert.equal(stored?.attempts, 1);

    const many = await create();
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.claim(sql, many.id, `worker-${i}`, LEASE_MS)),
    );
    assert.equal(claims.filter(Boolean).length, 1, 'eight concurrent claims, one winner');
    assert.equal((await store.get(sql, many.id))?.attempts, 1);
  });

  test('a claim starts an attempt: lease, attempts + 1, started_at and event number 1', async () => {
    const job = await create();
    const before = Date.now();
    const claimed = await store.claim(sql, job.id, 'w1', 5_000);
    assert.ok(claimed);
    assert.equal(claimed.status, 'PROCESSING');
    assert.equal(claimed.attempts, 1);
    assert.equal(claimed.leaseOwner, 'w1');
    assert.equal(claimed.lastEventSeq, 1);
    assert.ok(claimed.startedAt);
    const leaseLeft = claimed.leaseExpiresAt!.getTime() - before;
    assert.ok(leaseLeft > 3_000 && leaseLeft < 7_000, `lease ends ${leaseLeft} ms from now`);
  });

  test('a duplicate delivery is a no-op: claiming a completed, cancelled or unknown job gives undefined', async () => {
    const job = await create();
    const claimed = await store.claim(sql, job.id, 'w1', LEASE_MS);
    const completed = await store.complete(sql, job.id, 'w1', { hypeScore: 7 });
    assert.equal(completed?.status, 'COMPLETED');
    assert.equal(completed?.lastEventSeq, claimed!.lastEventSeq + 1);
    assert.equal(await store.claim(sql, job.id, 'w2', LEASE_MS), undefined);
    assert.equal(await store.claim(sql, job.id, 'w1', LEASE_MS), undefined);
    const after = await store.get(sql, job.id);
    assert.equal(after?.status, 'COMPLETED');
    assert.equal(after?.attempts, 1, 'no second attempt');
    assert.deepEqual(after?.result, { hypeScore: 7 });
    assert.equal(after?.progress, 100);
    assert.ok(after?.finishedAt);

    const cancelled = await create();
    await store.cancel(sql, cancelled.id, 'alice');
    assert.equal(await store.claim(sql, cancelled.id, 'w1', LEASE_MS), undefined);
    assert.equal(await store.claim(sql, randomUUID(), 'w1', LEASE_MS), undefined);
    assert.equal(await store.claim(sql, 'not-a-uuid', 'w1', LEASE_MS), undefined);
    assert.equal(await store.get(sql, 'not-a-uuid'), undefined, 'a malformed id names no job');
    assert.deepEqual(await store.cancel(sql, '42', 'alice'), { outcome: 'not_found' });
  });

  test('an expired lease is reaped back to PENDING with the reason and requeued; after max attempts FAILED', async () => {
    const job = await create({ maxAttempts: 2 });
    await store.claim(sql, job.id, 'w1', LEASE_MS);
    assert.deepEqual(await reap(), { requeued: [], failed: [] }, 'a live lease is left alone');
    await expireLease(sql, job.id);

    const first = await reap();
    assert.equal(first.failed.length, 0);
    assert.equal(first.requeued.length, 1);
    const requeued = first.requeued[0]!;
    assert.equal(requeued.status, 'PENDING');
    assert.equal(requeued.leaseOwner, null);
    assert.equal(requeued.attempts, 1, 'the lost attempt counts');
    assert.match(
      requeued.error ?? '',
      /lease expired: worker w1 stopped renewing it \(attempt 1 of 2; requeued\)/,
    );
    assert.equal(requeued.lastEventSeq, 1, 'requeueing emits nothing, so takes no event number');
    const requests = await outboxRows(job.id);
    assert.equal(requests.length, 2, 'the create and the requeue');
    assert.equal(requests[1]!.payload.jobId, job.id);

    const second = await store.claim(sql, job.id, 'w2', LEASE_MS);
    assert.equal(second?.attempts, 2);
    await expireLease(sql, job.id);
    const last = await reap();
    assert.equal(last.requeued.length, 0);
    assert.equal(last.failed.length, 1);
    const failed = last.failed[0]!;
    assert.equal(failed.status, 'FAILED');
    assert.ok(failed.finishedAt);
    assert.equal(failed.lastEventSeq, 3, 'FAILED takes the next event number, for job_failed');
    assert.match(failed.error ?? '', /worker w2 stopped renewing it \(attempt 2 of 2, none left\)/);
    assert.equal((await outboxRows(job.id)).length, 2, 'a failed job is not requeued');
    assert.deepEqual(await reap(), { requeued: [], failed: [] });
  });

  test('a job running past stuckAfterMs is reaped even though its lease is renewed', async () => {
    const job = await create();
    await store.claim(sql, job.id, 'hung', LEASE_MS);
    assert.equal((await reap({ stuckAfterMs: 60_000 })).requeued.length, 0);
    await sleep(120);
    assert.ok(await store.renewLease(sql, job.id, 'hung', LEASE_MS));
    const { requeued } = await reap({ stuckAfterMs: 100 });
    assert.equal(requeued.length, 1);
    assert.match(
      requeued[0]!.error ?? '',
      /^stuck: attempt running for more than 100 ms on worker hung \(attempt 1 of 3; requeued\)/,
    );
    assert.equal(await store.renewLease(sql, job.id, 'hung', LEASE_MS), false, 'the hung worker learns it');
  });

  test('the reaper takes only the kinds it can requeue, and a clock in the future sees leases expire', async () => {
    const story = await create({ kind: 'story_enhancement' });
    const pool = await create({ kind: 'generate_quests' }, poolTopic);
    await store.claim(sql, story.id, 'w1', 1_000);
    await store.claim(sql, pool.id, 'w2', 1_000);
    const later = new Date(Date.now() + 60_000);
    const { requeued } = await reap({ now: later });
    assert.deepEqual(
      requeued.map((j) => j.id),
      [story.id],
    );
    assert.equal((await store.get(sql, pool.id))?.status, 'PROCESSING', 'another reaper owns that kind');
    const poolReaped = await reap({ now: later }, { generate_quests: poolTopic });
    assert.deepEqual(
      poolReaped.requeued.map((j) => j.id),
      [pool.id],
    );
    const [, requeueRow] = await outboxRows(pool.id);
    assert.equal(requeueRow?.topic, 'test.jobs.pool.requested.1', "requeued on the kind's topic");
  });

  test("a reaped worker's writes are refused and the new owner's result stands", async () => {
    const job = await create();
    await store.claim(sql, job.id, 'old', LEASE_MS);
    await expireLease(sql, job.id);
    await reap();
    const taken = await store.claim(sql, job.id, 'new', LEASE_MS);
    assert.equal(taken?.leaseOwner, 'new');

    assert.equal(await store.renewLease(sql, job.id, 'old', LEASE_MS), false);
    assert.equal(await store.reportProgress(sql, job.id, 'old', 90, 'render'), undefined);
    assert.equal(await store.complete(sql, job.id, 'old', { from: 'old' }), undefined);
    assert.equal(await store.fail(sql, job.id, 'old', 'boom', { retry: false }), undefined);
    assert.equal(await store.release(sql, job.id, 'old'), undefined);
    assert.equal((await store.get(sql, job.id))?.leaseOwner, 'new', 'still the new owner’s');

    const done = await store.complete(sql, job.id, 'new', { from: 'new' });
    assert.deepEqual(done?.result, { from: 'new' });
    assert.equal(await store.complete(sql, job.id, 'old', { from: 'old' }), undefined);
    const final = await store.get(sql, job.id);
    assert.equal(final?.status, 'COMPLETED');
    assert.deepEqual(final?.result, { from: 'new' });
    assert.equal(final?.error, null);
  });

  test('progress never goes down within an attempt; each report takes the next event number', async () => {
    const job = await create();
    const claimed = await store.claim(sql, job.id, 'w1', LEASE_MS);
    const a = await store.reportProgress(sql, job.id, 'w1', 40, 'parse');
    assert.equal(a?.progress, 40);
    assert.equal(a?.stage, 'parse');
    const b = await store.reportProgress(sql, job.id, 'w1', 20, 'layout');
    assert.equal(b?.progress, 40, 'a lower value keeps the higher one');
    assert.equal(b?.stage, 'layout', 'the stage still moves on');
    const c = await store.reportProgress(sql, job.id, 'w1', 75);
    assert.equal(c?.progress, 75);
    assert.equal(c?.stage, 'layout', 'no stage keeps the current one');
    assert.deepEqual(
      [claimed, a, b, c].map((j) => j?.lastEventSeq),
      [1, 2, 3, 4],
    );
    await assert.rejects(store.reportProgress(sql, job.id, 'w1', 101), jobError('JOB_INVALID'));
    await assert.rejects(store.reportProgress(sql, job.id, 'w1', 50.5), jobError('JOB_INVALID'));
    assert.equal(await store.reportProgress(sql, job.id, 'someone-else', 99), undefined);
    assert.equal((await store.get(sql, job.id))?.progress, 75);
  });

  test('fail with retry goes back to PENDING while attempts remain, then FAILED; without retry FAILED at once', async () => {
    const job = await create({ maxAttempts: 2 });
    await store.claim(sql, job.id, 'w1', LEASE_MS);
    await store.reportProgress(sql, job.id, 'w1', 60, 'layout');
    const retried = await store.fail(sql, job.id, 'w1', 'LLM returned invalid JSON', { retry: true });
    assert.equal(retried?.status, 'PENDING');
    assert.equal(retried?.error, 'LLM returned invalid JSON');
    assert.equal(retried?.progress, 0, 'the next attempt starts from 0');
    assert.equal(retried?.finishedAt, null);
    assert.equal(retried?.lastEventSeq, 2, 'no event for a retry');
    await store.claim(sql, job.id, 'w2', LEASE_MS);
    const failed = await store.fail(sql, job.id, 'w2', 'LLM returned invalid JSON', { retry: true });
    assert.equal(failed?.status, 'FAILED', 'no attempts left');
    assert.equal(failed?.attempts, 2);
    assert.equal(failed?.lastEventSeq, 4);
    assert.ok(failed?.finishedAt);

    const fatal = await create({ maxAttempts: 3 });
    await store.claim(sql, fatal.id, 'w1', LEASE_MS);
    const now = await store.fail(sql, fatal.id, 'w1', 'x'.repeat(5000), { retry: false });
    assert.equal(now?.status, 'FAILED');
    assert.equal(now?.error?.length, 2000, 'the error is cut to the events’ limit');
  });

  test('release gives the job back without counting the attempt; requeue sends a new request', async () => {
    const job = await create();
    await store.claim(sql, job.id, 'w1', LEASE_MS);
    const released = await db.dataSource.transaction(async (tx) => {
      const back = await store.release(sqlOf(tx), job.id, 'w1', 'shutting down');
      if (back) await store.requeue(tx, back, generationJobRequested);
      return back;
    });
    assert.equal(released?.status, 'PENDING');
    assert.equal(released?.attempts, 0);
    assert.equal(released?.error, 'shutting down (w1)');
    assert.equal((await outboxRows(job.id)).length, 2);
    const again = await store.claim(sql, job.id, 'w2', LEASE_MS);
    assert.equal(again?.attempts, 1);
  });

  test('cancel: only the owner, only while not finished; the running worker loses its lease', async () => {
    const job = await create();
    await store.claim(sql, job.id, 'w1', LEASE_MS);
    assert.deepEqual(await store.cancel(sql, job.id, 'mallory'), { outcome: 'not_found' });
    assert.deepEqual(await store.cancel(sql, randomUUID(), 'alice'), { outcome: 'not_found' });
    const cancelled = await store.cancel(sql, job.id, 'alice');
    assert.equal(cancelled.outcome, 'cancelled');
    assert.equal(cancelled.outcome === 'cancelled' && cancelled.job.status, 'CANCELLED');
    assert.equal(cancelled.outcome === 'cancelled' && cancelled.job.lastEventSeq, 2);
    assert.equal(await store.renewLease(sql, job.id, 'w1', LEASE_MS), false);
    assert.equal(await store.complete(sql, job.id, 'w1', {}), undefined);
    const again = await store.cancel(sql, job.id, 'alice');
    assert.equal(again.outcome, 'finished');
  });

  test('claimNext takes the highest priority, then the oldest, and concurrent claimers never share a job', async () => {
    const low = await create({ priority: 1 });
    const high = await create({ priority: 9 });
    const highLater = await create({ priority: 9 });
    await create({ kind: 'map_generation', priority: 100 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await store.claimNext(sql, ['story_enhancement'], `w${i}`, LEASE_MS);
      order.push(job!.id);
    }
    assert.deepEqual(order, [high.id, highLater.id, low.id]);
    assert.equal(await store.claimNext(sql, ['story_enhancement'], 'w9', LEASE_MS), undefined);

    for (let i = 0; i < 6; i++) await create();
    const claimed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.claimNext(sql, ['story_enhancement'], `c${i}`, LEASE_MS)),
    );
    const ids = claimed.filter(Boolean).map((j) => j!.id);
    assert.equal(ids.length, 6);
    assert.equal(new Set(ids).size, 6, 'no job claimed twice');
  });

  test('retention keeps the newest N finished jobs per kind and status and nothing else', async () => {
    const finish = async (kind: string, status: 'COMPLETED' | 'FAILED' | 'CANCELLED', n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const job = await create({ kind });
        if (status === 'CANCELLED') await store.cancel(sql, job.id, 'alice');
        else {
          await store.claim(sql, job.id, 'w', LEASE_MS);
          if (status === 'COMPLETED') await store.complete(sql, job.id, 'w', { i });
          else await store.fail(sql, job.id, 'w', 'no', { retry: false });
        }
        // Distinct, known finish times: oldest first.
        await sql.rows(
          `UPDATE jobs SET finished_at = now() - ($2::int * interval '1 minute') WHERE id = $1`,
          [job.id, n - i],
        );
        ids.push(job.id);
      }
      return ids;
    };
    const completed = await finish('story_enhancement', 'COMPLETED', 5);
    const failed = await finish('story_enhancement', 'FAILED', 4);
    const cancelled = await finish('story_enhancement', 'CANCELLED', 2);
    const otherKind = await finish('map_generation', 'COMPLETED', 3);
    const pending = await create();
    const running = await create();
    await store.claim(sql, running.id, 'w', LEASE_MS);

    const purged = await store.purgeFinished(sql, 'story_enhancement', {
      keepCompleted: 2,
      keepFailed: 1,
      keepCancelled: 1,
    });
    assert.deepEqual(purged, { completed: 3, failed: 3, cancelled: 1 });
    const left = new Set(
      (await db.dataSource.query<{ id: string }[]>('SELECT id FROM jobs')).map((r) => r.id),
    );
    assert.deepEqual(
      new Set([...completed, ...failed, ...cancelled].filter((id) => left.has(id))),
      new Set([...completed.slice(-2), ...failed.slice(-1), ...cancelled.slice(-1)]),
      'the newest of each status stay',
    );
    for (const id of [...otherKind, pending.id, running.id]) assert.ok(left.has(id));
    assert.deepEqual(
      await store.purgeFinished(sql, 'story_enhancement', { keepCompleted: 2, keepFailed: 1 }),
      {
        completed: 0,
        failed: 0,
        cancelled: 0,
      },
    );
    assert.deepEqual(await store.purgeFinished(sql, 'map_generation'), {
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
  });

  test('stats count jobs per kind and status', async () => {
    const a = await create({ kind: 'story_enhancement' });
    const b = await create({ kind: 'story_enhancement' });
    const c = await create({ kind: 'story_enhancement' });
    await create({ kind: 'story_enhancement' });
    const m = await create({ kind: 'map_generation' });
    await store.claim(sql, a.id, 'w', LEASE_MS);
    await store.claim(sql, b.id, 'w', LEASE_MS);
    await store.complete(sql, b.id, 'w', {});
    await store.claim(sql, c.id, 'w', LEASE_MS);
    await store.fail(sql, c.id, 'w', 'no', { retry: false });
    await store.cancel(sql, m.id, 'alice');
    assert.deepEqual(await store.stats(sql), [
      { kind: 'map_generation', total: 1, pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 1 },
      {
        kind: 'story_enhancement',
        total: 4,
        pending: 1,
        processing: 1,
        completed: 1,
        failed: 1,
        cancelled: 0,
      },
    ]);
  });

  test('the table refuses rows that break the state machine', async () => {
    const job = await create();
    await assert.rejects(
      sql.rows(`UPDATE jobs SET status = 'PROCESSING' WHERE id = $1`, [job.id]),
      /jobs_lease_iff_processing/,
    );
    await assert.rejects(sql.rows(`UPDATE jobs SET status = 'DONE' WHERE id = $1`, [job.id]), /check/);
    await assert.rejects(
      sql.rows(`UPDATE jobs SET status = 'COMPLETED' WHERE id = $1`, [job.id]),
      /jobs_finished_iff_final/,
    );
    await assert.rejects(sql.rows(`UPDATE jobs SET progress = 101 WHERE id = $1`, [job.id]), /check/);
  });
});
