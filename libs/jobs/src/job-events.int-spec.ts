import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generationJobRequested, type JobEvent } from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { captureLogger, createTestSchema, type TestSchema } from '@fleet/db/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, type RedisClient } from '@fleet/redis';
import {
  JOB_MIGRATIONS,
  JobError,
  JobEventSubscriber,
  JobStore,
  type Job,
  type JobEvents,
  type JobEventsOptions,
} from './index';
import { createTestJobEvents } from './testing';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const store = new JobStore();
const LEASE_MS = 30_000;

/** A job as the store would return it after `seq` transitions, without the database round trips. */
const jobAt = (id: string, seq: number, ownerId = 'alice'): Job => ({
  id,
  kind: 'story_enhancement',
  ownerId,
  status: 'PROCESSING',
  priority: 0,
  attempts: 1,
  maxAttempts: 3,
  progress: Math.min(100, seq),
  stage: `step-${seq}`,
  input: {},
  result: null,
  error: null,
  leaseOwner: 'w1',
  leaseExpiresAt: new Date(),
  createdAt: new Date(),
  startedAt: new Date(),
  finishedAt: null,
  updatedAt: new Date(),
  lastEventSeq: seq,
  dedupKey: null,
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('job events on a real Redis', () => {
  let db: TestSchema;
  let sql: Sql;
  let redis: RedisClient;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS, ...JOB_MIGRATIONS] });
    sql = sqlOf(db.dataSource.manager);
    redis = createRedisClient({ url: REDIS_URL, connectionName: 'jobs-lib-test', logger: captureLogger() });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  after(async () => {
    await closeRedisClient(redis);
    await db.drop();
  });

  const fresh = (options: Omit<JobEventsOptions, 'keyPrefix'> = {}): JobEvents => {
    const made = createTestJobEvents(redis, options);
    cleanups.push(made.cleanup);
    return made.events;
  };
  /** A connection in subscriber mode, closed after the test. */
  const subscriberConnection = (name = `jobs-lib-sub-${randomUUID()}`): RedisClient => {
    const client = createRedisClient({ url: REDIS_URL, connectionName: name, logger: captureLogger() });
    cleanups.push(() => closeRedisClient(client));
    return client;
  };
  const newSubscriber = (events: JobEvents, connection = subscriberConnection()) => {
    const logger = captureLogger();
    const subscriber = new JobEventSubscriber(events, connection, { logger });
    cleanups.push(() => subscriber.close());
    return { subscriber, logger };
  };
  const createJob = () =>
    db.dataSource.transaction(
      async (tx) =>
        (
          await store.create(
            tx,
            { kind: 'story_enhancement', ownerId: 'alice', input: {} },
            generationJobRequested,
          )
        ).job,
    );

  test("a job's lifecycle is published on its job and user channels with seq 1, 2, 3 … in order and kept for replay", async () => {
    const events = fresh();
    const job = await createJob();
    const raw = subscriberConnection();
    const received: Record<string, JobEvent[]> = {};
    raw.on('message', (channel: string, message: string) =>
      (received[channel] ??= []).push(JSON.parse(message) as JobEvent),
    );
    await raw.subscribe(events.jobChannel(job.id), events.userChannel('alice'));

    const claimed = await store.claim(sql, job.id, 'w1', LEASE_MS);
    await events.emit(claimed!, { type: 'job_started' });
    for (const [progress, stage] of [
      [30, 'parse'],
      [60, 'layout'],
      [90, 'render'],
    ] as const) {
      const reported = await store.reportProgress(sql, job.id, 'w1', progress, stage);
      await events.emit(reported!, { type: 'progress_update' });
    }
    const done = await store.complete(sql, job.id, 'w1', { ok: true });
    const { published, event } = await events.emit(done!, { type: 'job_completed' });
    assert.ok(published);
    assert.equal(event.seq, 5);

    await waitFor(
      () => (received[events.userChannel('alice')]?.length ?? 0) === 5,
      'five user-channel events',
    );
    await waitFor(() => (received[events.jobChannel(job.id)]?.length ?? 0) === 5, 'five job-channel events');
    const expected = [
      { type: 'job_started', seq: 1, progress: 0 },
      { type: 'progress_update', seq: 2, progress: 30, stage: 'parse' },
      { type: 'progress_update', seq: 3, progress: 60, stage: 'layout' },
      { type: 'progress_update', seq: 4, progress: 90, stage: 'render' },
      { type: 'job_completed', seq: 5, progress: 100, stage: 'render' },
    ];
    const shape = (e: JobEvent) => ({
      type: e.type,
      seq: e.seq,
      progress: e.progress,
      ...(e.stage ? { stage: e.stage } : {}),
    });
    assert.deepEqual(received[events.jobChannel(job.id)]!.map(shape), expected);
    assert.deepEqual(received[events.userChannel('alice')]!.map(shape), expected);
    assert.deepEqual((await events.replay(job.id)).map(shape), expected);
    assert.ok(
      (await events.replay(job.id)).every((e) => e.jobId === job.id && e.kind === 'story_enhancement'),
    );
  });

  test('replay after a seq gives exactly the events that followed it', async () => {
    const events = fresh();
    const id = randomUUID();
    for (const seq of range(1, 8)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    assert.deepEqual(
      (await events.replay(id, 3)).map((e) => e.seq),
      [4, 5, 6, 7, 8],
    );
    assert.deepEqual(await events.replay(id, 8), []);
    assert.deepEqual(
      (await events.replay(id, 0, 2)).map((e) => e.seq),
      [1, 2],
    );
    assert.deepEqual(await events.replay(randomUUID(), 0), [], 'an unknown job has no log');
  });

  test('an event emitted twice, or behind a later one, is neither stored nor published', async () => {
    const events = fresh();
    const id = randomUUID();
    const raw = subscriberConnection();
    const seqs: number[] = [];
    raw.on('message', (_channel: string, message: string) =>
      seqs.push((JSON.parse(message) as JobEvent).seq),
    );
    await raw.subscribe(events.jobChannel(id));
    assert.equal((await events.emit(jobAt(id, 1), { type: 'job_started' })).published, true);
    assert.equal((await events.emit(jobAt(id, 1), { type: 'job_started' })).published, false);
    assert.equal((await events.emit(jobAt(id, 3), { type: 'progress_update' })).published, true);
    // A worker that lost the job wrote seq 2 before the new owner's seq 3, and emits it late.
    assert.equal((await events.emit(jobAt(id, 2), { type: 'progress_update' })).published, false);
    assert.equal((await events.emit(jobAt(id, 4), { type: 'job_completed' })).published, true);
    await waitFor(() => seqs.length === 3, 'three messages');
    await sleep(50);
    assert.deepEqual(seqs, [1, 3, 4]);
    assert.deepEqual(
      (await events.replay(id)).map((e) => e.seq),
      [1, 3, 4],
    );
  });

  test('emit refuses events the contract would reject', async () => {
    const events = fresh();
    const id = randomUUID();
    await assert.rejects(
      events.emit(jobAt(id, 0), { type: 'job_started' }),
      (e: unknown) => e instanceof JobError && e.code === 'JOB_EVENT_INVALID',
    );
    await assert.rejects(
      events.emit(jobAt(id, 1), { type: 'progress_update', progress: 150 }),
      (e: unknown) => e instanceof JobError && e.code === 'JOB_EVENT_INVALID',
    );
    assert.deepEqual(await events.replay(id), []);
    assert.throws(() => fresh({ streamMaxLen: 0 }), JobError);
  });

  test('the log is bounded to streamMaxLen and expires: running TTL, then the shorter finished TTL', async () => {
    const events = fresh({ streamMaxLen: 10, streamTtlMs: 600_000, finishedStreamTtlMs: 60_000 });
    const id = randomUUID();
    for (const seq of range(1, 25)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    assert.equal(await redis.xlen(events.streamKey(id)), 10);
    assert.deepEqual(
      (await events.replay(id)).map((e) => e.seq),
      range(16, 25),
    );
    const running = await redis.pttl(events.streamKey(id));
    assert.ok(running > 60_000 && running <= 600_000, `running TTL ${running} ms`);
    await events.emit(jobAt(id, 26), { type: 'job_completed' });
    const finished = await redis.pttl(events.streamKey(id));
    assert.ok(finished > 0 && finished <= 60_000, `finished TTL ${finished} ms`);
  });

  test('a client reconnecting with its last seq while events keep coming gets each missed and new event once, in order', async () => {
    const events = fresh();
    const { subscriber } = newSubscriber(events);
    // Several rounds: the emitter runs flat out, so the subscribe/replay window falls at a different
    // place each time (before, during and after the replay).
    for (let round = 0; round < 5; round++) {
      const id = randomUUID();
      for (const seq of range(1, 5)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
      const last = 200;
      const emitter = (async () => {
        for (const seq of range(6, last)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
      })();
      await sleep(round * 3);
      const got: number[] = [];
      const subscription = await subscriber.subscribeJob(id, 2, { onEvent: (e) => void got.push(e.seq) });
      await emitter;
      await waitFor(() => got.at(-1) === last, `seq ${last} in round ${round}`);
      await sleep(50);
      assert.deepEqual(got, range(3, last), `round ${round}: no duplicates, no gaps, in order`);
      await subscription.close();
    }
  });

  test("a user's subscription replays the jobs it names from their last seq and follows new jobs live", async () => {
    const events = fresh();
    const { subscriber } = newSubscriber(events);
    const [a, b, later] = [randomUUID(), randomUUID(), randomUUID()];
    for (const seq of range(1, 4)) await events.emit(jobAt(a, seq), { type: 'progress_update' });
    for (const seq of range(1, 3)) await events.emit(jobAt(b, seq), { type: 'progress_update' });
    await events.emit(jobAt(randomUUID(), 1, 'bob'), { type: 'job_started' });
    const got: string[] = [];
    const subscription = await subscriber.subscribeUser(
      'alice',
      { [a]: 1, [b]: 3 },
      { onEvent: (e) => void got.push(`${e.jobId}:${e.seq}`) },
    );
    assert.deepEqual(got, [`${a}:2`, `${a}:3`, `${a}:4`], 'replayed before subscribe resolves');
    await events.emit(jobAt(b, 4), { type: 'progress_update' });
    await events.emit(jobAt(later, 1), { type: 'job_started' });
    await events.emit(jobAt(later, 2), { type: 'progress_update' });
    await events.emit(jobAt(a, 5), { type: 'job_completed' });
    await waitFor(() => got.length === 7, 'seven events');
    await sleep(50);
    assert.deepEqual(got.slice(3), [`${b}:4`, `${later}:1`, `${later}:2`, `${a}:5`]);
    await subscription.close();
    await events.emit(jobAt(a, 6), { type: 'job_completed' });
    await sleep(100);
    assert.equal(got.length, 7, 'nothing after close');
  });

  test('a trimmed log is reported as a gap, then delivery goes on', async () => {
    const events = fresh({ streamMaxLen: 5 });
    const { subscriber } = newSubscriber(events);
    const id = randomUUID();
    for (const seq of range(1, 12)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    const got: number[] = [];
    const gaps: [number, number][] = [];
    const subscription = await subscriber.subscribeJob(id, 3, {
      onEvent: (e) => void got.push(e.seq),
      onGap: (_jobId, from, to) => void gaps.push([from, to]),
    });
    assert.deepEqual(gaps, [[4, 7]]);
    assert.deepEqual(got, range(8, 12));
    await subscription.close();
  });

  test('events published while the subscriber connection is down are replayed after it reconnects', async () => {
    const events = fresh();
    const name = `jobs-lib-sub-${randomUUID()}`;
    const { subscriber, logger } = newSubscriber(events, subscriberConnection(name));
    const id = randomUUID();
    const got: number[] = [];
    await subscriber.subscribeJob(id, 0, { onEvent: (e) => void got.push(e.seq) });
    for (const seq of range(1, 5)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    await waitFor(() => got.length === 5, 'five live events');

    const clients = (await redis.client('LIST')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${name} `));
    assert.ok(line, 'the subscriber connection is listed');
    const clientId = /\bid=(\d+)/.exec(line)![1]!;
    await redis.client('KILL', 'ID', clientId);
    // Published while the connection is down (pub/sub drops these for it): no later event follows,
    // so only the replay after the reconnect can deliver them.
    for (const seq of range(6, 10)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    await waitFor(() => got.length === 10, 'the missed events after the reconnect');
    await events.emit(jobAt(id, 11), { type: 'job_completed' });
    await waitFor(() => got.length === 11, 'live again');
    await sleep(50);
    assert.deepEqual(got, range(1, 11));
    assert.equal(
      logger.lines.filter((l) => l.level === 'error').length,
      0,
      JSON.stringify(logger.lines.map((l) => l.msg)),
    );
  });

  test("a handler's throw is logged and does not stop the next events", async () => {
    const events = fresh();
    const { subscriber, logger } = newSubscriber(events);
    const id = randomUUID();
    const got: number[] = [];
    await subscriber.subscribeJob(id, 0, {
      onEvent: (e) => {
        got.push(e.seq);
        if (e.seq === 2) throw new Error('socket closed');
      },
    });
    for (const seq of range(1, 3)) await events.emit(jobAt(id, seq), { type: 'progress_update' });
    await waitFor(() => got.length === 3, 'three events');
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(logger.lines.filter((l) => l.msg === 'job event handler threw').length, 1);
  });
});
