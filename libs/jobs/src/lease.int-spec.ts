import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generationJobRequested } from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { JOB_MIGRATIONS, JobError, JobStore, withLease, type Job } from './index';
import { expireLease } from './testing';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const store = new JobStore();
const TOPICS = { story_enhancement: generationJobRequested };
const leaseLost = (error: unknown) => error instanceof JobError && error.code === 'JOB_LEASE_LOST';

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

describe('withLease on a real PostgreSQL', () => {
  let db: TestSchema;
  let sql: Sql;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS, ...JOB_MIGRATIONS] });
    sql = sqlOf(db.dataSource.manager);
  });
  after(() => db.drop());

  const claimed = async (workerId: string, leaseMs: number): Promise<Job> => {
    const job = await db.dataSource.transaction(
      async (tx) =>
        (
          await store.create(
            tx,
            { kind: 'story_enhancement', ownerId: 'alice', input: {} },
            generationJobRequested,
          )
        ).job,
    );
    return (await store.claim(sql, job.id, workerId, leaseMs))!;
  };

  test('work longer than the lease keeps the job: the lease is renewed and the reaper finds nothing', async () => {
    const job = await claimed('w1', 600);
    const result = await withLease(store, sql, job.id, 'w1', 600, async (signal) => {
      for (let i = 0; i < 4; i++) {
        await abortableSleep(400, signal);
        const reaped = await db.dataSource.transaction((tx) => store.reapExpired(tx, TOPICS));
        assert.deepEqual(reaped, { requeued: [], failed: [] }, `the reaper at ${(i + 1) * 400} ms`);
      }
      return 'done';
    });
    assert.equal(result, 'done');
    const completed = await store.complete(sql, job.id, 'w1', { result });
    assert.equal(completed?.status, 'COMPLETED', 'still the holder after 1.6 s on a 600 ms lease');
  });

  test('when the job is reaped under it, the work is aborted and withLease rejects with JOB_LEASE_LOST', async () => {
    const job = await claimed('w1', 30_000);
    let aborted: unknown;
    const started = Date.now();
    await assert.rejects(
      withLease(
        store,
        sql,
        job.id,
        'w1',
        30_000,
        async (signal) => {
          await expireLease(sql, job.id);
          await db.dataSource.transaction((tx) => store.reapExpired(tx, TOPICS));
          try {
            await abortableSleep(60_000, signal);
          } catch (error) {
            aborted = error;
            throw error;
          }
        },
        { renewEveryMs: 50 },
      ),
      leaseLost,
    );
    assert.ok(leaseLost(aborted), 'the signal carries JOB_LEASE_LOST');
    assert.ok(Date.now() - started < 5_000, 'aborted at the next renewal, not after the work');
    assert.equal((await store.get(sql, job.id))?.status, 'PENDING');
  });

  test('when the owner cancels, work that ignores the signal still ends in JOB_LEASE_LOST, not its result', async () => {
    const job = await claimed('w1', 30_000);
    await assert.rejects(
      withLease(
        store,
        sql,
        job.id,
        'w1',
        30_000,
        async () => {
          await store.cancel(sql, job.id, 'alice');
          await sleep(200);
          return 'finished anyway';
        },
        { renewEveryMs: 50 },
      ),
      leaseLost,
    );
  });

  test('when no renewal gets through for a whole lease (the row is locked), the work is aborted', async () => {
    const job = await claimed('w1', 30_000);
    const locker = db.dataSource.createQueryRunner();
    await locker.connect();
    let abortedAfterMs: number | undefined;
    try {
      const running = withLease(
        store,
        sql,
        job.id,
        'w1',
        400,
        async (signal) => {
          // Renewals now wait on the row lock: the database is, for this worker, unreachable.
          await locker.startTransaction();
          await locker.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [job.id]);
          const lockedAt = Date.now();
          await abortableSleep(10_000, signal).catch((error: unknown) => {
            abortedAfterMs = Date.now() - lockedAt;
            throw error;
          });
        },
        { renewEveryMs: 100 },
      );
      const deadline = Date.now() + 5_000;
      while (abortedAfterMs === undefined && Date.now() < deadline) await sleep(10);
      assert.ok(abortedAfterMs !== undefined && abortedAfterMs < 1_000, `aborted after ${abortedAfterMs} ms`);
      await locker.rollbackTransaction();
      await assert.rejects(
        running,
        (error: unknown) => leaseLost(error) && /no lease renewal succeeded/.test(String(error)),
      );
    } finally {
      await locker.release();
    }
  });

  test('a job not held by the worker is never started', async () => {
    const job = await claimed('w1', 30_000);
    let ran = false;
    await assert.rejects(
      withLease(store, sql, job.id, 'w2', 30_000, async () => {
        ran = true;
      }),
      leaseLost,
    );
    assert.equal(ran, false);
  });

  test("the work's own failure is passed through while the lease holds", async () => {
    const job = await claimed('w1', 30_000);
    await assert.rejects(
      withLease(store, sql, job.id, 'w1', 30_000, async () => {
        throw new Error('LLM unavailable');
      }),
      /LLM unavailable/,
    );
    assert.ok(
      await store.renewLease(sql, job.id, 'w1', 30_000),
      'still held: the caller decides (fail/retry)',
    );
  });

  test('a renewal interval not shorter than the lease is refused', async () => {
    await assert.rejects(
      withLease(store, sql, 'any', 'w1', 1_000, async () => undefined, { renewEveryMs: 1_000 }),
      (error: unknown) => error instanceof JobError && error.code === 'JOB_INVALID',
    );
  });
});
