/**
 * The job platform's api through the bundled api (a child process) against the real PostgreSQL
 * (fresh schema), Redis (fresh job event prefix), MinIO (fresh bucket) and a fresh Kafka topic
 * namespace. The generation worker is another app: where a job must run, the test plays the worker
 * with the same lib it uses (`JobStore.claim` / `reportProgress` / `complete` and `JobEvents.emit`).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generationJobRequested, inNamespace, jobRequestSchema } from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { type TestSchema } from '@fleet/db/testing';
import { JobStore, type Job, type JobEvents } from '@fleet/jobs';
import { createTestJobEvents } from '@fleet/jobs/testing';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { createTestBucket } from '@fleet/object-store/testing';
import { createRedisClient, type RedisClient } from '@fleet/redis';
import { WebSocket } from 'ws';
import {
  call,
  createApiSchema,
  createKeys,
  REDIS_URL,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface StoryBody {
  story: {
    id: string;
    title: string;
    hypeScore: number;
    ethicsScore: number;
    scoresSource: string;
    enhancementStatus: string;
    enhancementJobId: string;
  };
  jobId: string;
}
interface JobBody {
  id: string;
  kind: string;
  status: string;
  progress: number;
  stage: string | null;
  attempts: number;
  maxAttempts: number;
  result: unknown;
  error: string | null;
  lastEventSeq: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  downloads?: { json?: { url: string; expiresAt: string }; svg?: { url: string; expiresAt: string } };
}
interface Frame {
  type: string;
  jobId?: string;
  seq?: number;
  progress?: number;
  stage?: string;
  error?: string;
  fromSeq?: number;
  toSeq?: number;
}

const DOCUMENT_MAX_BYTES = 8 * 1024;
/** User ids of this run: rate-limit counters live in the shared Redis, keyed by user. */
const run = randomUUID().slice(0, 8);
const user = (name: string) => `${name}-${run}`;

/** A WebSocket client that keeps every frame; resolves once the server sent `subscribed`. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const frames: Frame[] = [];
  let closeCode: number | undefined;
  ws.on('close', (code) => (closeCode = code));
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      frames.push(frame);
      if (frame.type === 'subscribed') resolve();
    });
    ws.on('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
    ws.on('error', reject);
  });
  const events = () => frames.filter((f) => f.type !== 'subscribed');
  return {
    frames,
    events,
    closeCode: () => closeCode,
    /** Waits until at least `n` events arrived. */
    until: (n: number) => waitFor(`${n} events`, () => events().length >= n, 10_000),
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}

/** The HTTP status a refused upgrade answered with. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

describe('api jobs, stories, maps and job progress', () => {
  let db: TestSchema;
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let redis: RedisClient;
  let events: JobEvents;
  let cleanupEvents: () => Promise<void>;
  let sql: Sql;
  let alice: string;
  let bob: string;
  const store = new JobStore();
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const topic = inNamespace(generationJobRequested, namespace).name;

  before(async () => {
    redis = createRedisClient({ url: REDIS_URL, logger: captureLogger(), connectionName: 'test-api-jobs' });
    const testEvents = createTestJobEvents(redis);
    events = testEvents.events;
    cleanupEvents = testEvents.cleanup;
    [db, bucket, keys] = await Promise.all([createApiSchema(), createTestBucket(), createKeys()]);
    sql = sqlOf(db.dataSource.manager);
    api = await startApi(db.schema, keys, {
      ...bucket.env,
      KAFKA_TOPIC_NAMESPACE: namespace,
      JOB_EVENTS_KEY_PREFIX: testEvents.keyPrefix,
      MAP_DOCUMENT_MAX_BYTES: String(DOCUMENT_MAX_BYTES),
    });
    [alice, bob] = await Promise.all(['alice', 'bob'].map((name) => tokenFor(keys, user(name))));
  });
  after(async () => {
    await api?.stop();
    await cleanupEvents?.();
    redis?.disconnect();
    await bucket?.drop();
    await db?.drop();
  });

  const counts = async (): Promise<{ jobs: number; stories: number; outbox: number }> =>
    (
      await db.dataSource.query(
        `SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM stories)::int AS stories,
                (SELECT count(*) FROM outbox_events)::int AS outbox`,
      )
    )[0];
  const createStory = (token: string, body: unknown) =>
    call<StoryBody & ErrorBody>(api, 'POST', '/v1/stories', { token, body });
  const postMap = (token: string | undefined, body: string | Buffer, contentType: string, query = '') =>
    fetch(`${api.baseUrl}/v1/maps${query}`, {
      method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': contentType },
      body,
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { jobId: string; kind: string; status: string } & ErrorBody,
    }));
  const getJob = (token: string, id: string) =>
    call<JobBody & ErrorBody>(api, 'GET', `/v1/jobs/${id}`, { token });
  const wsUrl = (path: string) => `ws://127.0.0.1:${api.port}${path}`;
  /** A new story_enhancement job of `token`'s user. */
  const newJob = async (token: string): Promise<string> => {
    const created = await createStory(token, { title: 'A story', content: 'Something happened.' });
    assert.equal(created.status, 201, created.text);
    return created.body.jobId;
  };

  /** Plays the generation worker: claim → job_started, and the steps it is told. */
  const worker = (jobId: string, workerId = `w-${randomUUID().slice(0, 4)}`) => ({
    async start(): Promise<Job> {
      const job = await store.claim(sql, jobId, workerId, 30_000);
      assert.ok(job, 'claimed');
      await events.emit(job, { type: 'job_started' });
      return job;
    },
    async progress(percent: number, stage: string): Promise<Job> {
      const job = await store.reportProgress(sql, jobId, workerId, percent, stage);
      assert.ok(job, 'progress recorded');
      assert.equal((await events.emit(job, { type: 'progress_update' })).published, true);
      return job;
    },
    async complete(result: unknown): Promise<Job> {
      const job = await store.complete(sql, jobId, workerId, result);
      assert.ok(job, 'completed');
      await events.emit(job, { type: 'job_completed' });
      return job;
    },
  });

  describe('stories', () => {
    test('a story is created with local scores and its enhancement job: story, PENDING job and one outbox request in ONE transaction', async () => {
      const before = await counts();
      const answer = await createStory(alice, {
        title: 'Revolutionary breakthrough!!!',
        content: 'An unprecedented, game-changing miracle chip. Privacy concerns remain about tracking.',
        sectorTag: 'chips',
        impactTags: ['privacy'],
      });
      assert.equal(answer.status, 201, answer.text);
      const { story, jobId } = answer.body;
      assert.equal(story.scoresSource, 'local');
      assert.equal(story.enhancementStatus, 'PENDING');
      assert.equal(story.enhancementJobId, jobId);
      assert.ok(story.hypeScore > 3, `hype above the neutral 3: ${story.hypeScore}`);
      assert.ok(story.ethicsScore < 8, `ethics below the neutral 8: ${story.ethicsScore}`);
      assert.deepEqual(await counts(), {
        jobs: before.jobs + 1,
        stories: before.stories + 1,
        outbox: before.outbox + 1,
      });

      const [job] = await db.dataSource.query(
        `SELECT kind, owner_id, status, input, xmin::text AS tx FROM jobs WHERE id = $1`,
        [jobId],
      );
      assert.deepEqual(
        { kind: job.kind, owner: job.owner_id, status: job.status, input: job.input },
        { kind: 'story_enhancement', owner: user('alice'), status: 'PENDING', input: { storyId: story.id } },
      );
      const [storyRow] = await db.dataSource.query(`SELECT xmin::text AS tx FROM stories WHERE id = $1`, [
        story.id,
      ]);
      const outbox = await db.dataSource.query(
        `SELECT topic, payload, xmin::text AS tx FROM outbox_events WHERE aggregate_key = $1`,
        [jobId],
      );
      assert.equal(outbox.length, 1);
      assert.equal(outbox[0].topic, topic);
      assert.equal(jobRequestSchema.parse(outbox[0].payload).jobId, jobId);
      assert.equal(storyRow.tx, job.tx, 'story and job written by the same transaction');
      assert.equal(outbox[0].tx, job.tx, 'job and its request written by the same transaction');

      const read = await call<StoryBody['story']>(api, 'GET', `/v1/stories/${story.id}`, { token: alice });
      assert.equal(read.status, 200);
      assert.equal(read.body.title, 'Revolutionary breakthrough!!!');
      assert.equal((await call(api, 'GET', `/v1/stories/${story.id}`, { token: bob })).status, 404);
      assert.equal((await call(api, 'GET', `/v1/stories/${randomUUID()}`, { token: alice })).status, 404);
      assert.equal((await call(api, 'GET', `/v1/stories/nope`, { token: alice })).status, 400);
    });

    const bad: Array<{ name: string; body: unknown; status: number; code: string }> = [
      { name: 'without a title', body: { content: 'text' }, status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'with a blank title',
        body: { title: '   ', content: 'text' },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'with a 301-character title',
        body: { title: 'a'.repeat(301), content: 'x' },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'without content', body: { title: 't' }, status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'with an unknown field',
        body: { title: 't', content: 'c', score: 9 },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'with a NUL in the content',
        body: { title: 't', content: 'a\u0000b' },
        status: 400,
        code: 'INVALID_STRING',
      },
      {
        name: 'with content over STORY_CONTENT_MAX_BYTES (64 KiB)',
        body: { title: 't', content: 'é'.repeat(32 * 1024 + 1) },
        status: 413,
        code: 'STORY_CONTENT_TOO_LARGE',
      },
    ];
    for (const c of bad) {
      test(`a story ${c.name} → ${c.status} ${c.code}, nothing stored`, async () => {
        const before = await counts();
        const answer = await createStory(alice, c.body);
        assert.equal(answer.status, c.status, answer.text);
        assert.equal(answer.body.error.code, c.code);
        if (c.name === 'without a title') assert.match(answer.body.error.message, /body\.title: required/);
        assert.deepEqual(await counts(), before);
      });
    }

    test('a story of exactly 64 KiB of content is accepted (its route takes a larger JSON body)', async () => {
      const answer = await createStory(alice, { title: 'long', content: 'a'.repeat(64 * 1024) });
      assert.equal(answer.status, 201, answer.text.slice(0, 300));
    });
  });

  describe('map documents', () => {
    test('a markdown document → 202 with a map_generation job whose input is { document, filename }, with its request in the same transaction', async () => {
      const document = '# Middle-earth\n\nThe Shire lies west of Bree. A road runs east to Rivendell. 🌄\n';
      const answer = await postMap(alice, document, 'text/markdown; charset=utf-8', '?filename=lotr.md');
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      assert.equal(answer.body.kind, 'map_generation');
      assert.equal(answer.body.status, 'PENDING');
      const [job] = await db.dataSource.query(`SELECT input, xmin::text AS tx FROM jobs WHERE id = $1`, [
        answer.body.jobId,
      ]);
      assert.deepEqual(job.input, { document, filename: 'lotr.md' });
      const outbox = await db.dataSource.query(
        `SELECT topic, xmin::text AS tx FROM outbox_events WHERE aggregate_key = $1`,
        [answer.body.jobId],
      );
      assert.deepEqual(outbox, [{ topic, tx: job.tx }]);

      const plain = await postMap(alice, 'Just text.', 'text/plain');
      assert.equal(plain.status, 202);
      const [row] = await db.dataSource.query(`SELECT input FROM jobs WHERE id = $1`, [plain.body.jobId]);
      assert.deepEqual(row.input, { document: 'Just text.', filename: 'document.txt' });
    });

    const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1');
    const bad: Array<{
      name: string;
      body: string | Buffer;
      type: string;
      status: number;
      code: string;
      reason?: RegExp;
    }> = [
      {
        name: 'a document over MAP_DOCUMENT_MAX_BYTES',
        body: 'a'.repeat(DOCUMENT_MAX_BYTES + 1),
        type: 'text/plain',
        status: 413,
        code: 'DOCUMENT_TOO_LARGE',
      },
      { name: 'an empty document', body: '', type: 'text/plain', status: 400, code: 'DOCUMENT_EMPTY' },
      {
        name: 'a whitespace-only document',
        body: ' \n\t\n',
        type: 'text/markdown',
        status: 400,
        code: 'DOCUMENT_EMPTY',
      },
      {
        name: 'a binary document (NUL bytes)',
        body: Buffer.from([0x68, 0x69, 0x00, 0x01, 0x02]),
        type: 'text/plain',
        status: 400,
        code: 'DOCUMENT_NOT_TEXT',
        reason: /NUL byte at offset 2/,
      },
      {
        name: 'a PDF declared as text',
        body: PDF,
        type: 'text/plain',
        status: 400,
        code: 'DOCUMENT_NOT_TEXT',
        reason: /application\/pdf/,
      },
      {
        name: 'invalid UTF-8',
        body: Buffer.from([0x61, 0xc3, 0x28, 0x62]),
        type: 'text/markdown',
        status: 400,
        code: 'DOCUMENT_NOT_TEXT',
        reason: /invalid UTF-8/,
      },
      {
        name: 'a JSON body',
        body: '{"document":"x"}',
        type: 'application/json',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'a PDF declared as a PDF',
        body: PDF,
        type: 'application/pdf',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'text in latin-1',
        body: 'caf\xe9',
        type: 'text/plain; charset=iso-8859-1',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
    ];
    for (const c of bad) {
      test(`${c.name} → ${c.status} ${c.code}, nothing stored`, async () => {
        const before = await counts();
        const answer = await postMap(alice, c.body, c.type);
        assert.equal(answer.status, c.status, JSON.stringify(answer.body));
        assert.equal(answer.body.error.code, c.code);
        if (c.reason) assert.match(answer.body.error.message, c.reason);
        assert.deepEqual(await counts(), before);
      });
    }

    test('a chunked document that passes the limit mid-body → 413; without a token → 401', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          `${api.baseUrl}/v1/maps`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${alice}`,
              'content-type': 'text/plain',
              'transfer-encoding': 'chunked',
            },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 3; i++) req.write('b'.repeat(DOCUMENT_MAX_BYTES / 2));
        req.end();
      });
      assert.equal(status, 413);
      assert.equal((await postMap(undefined, 'text', 'text/plain')).status, 401);
    });

    test('a text body sent to a JSON route → 415', async () => {
      const answer = await call<ErrorBody>(api, 'POST', '/v1/stories', {
        token: alice,
        body: 'title',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(answer.status, 415, answer.text);
      assert.equal(answer.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('jobs', () => {
    test("GET a job: its owner sees status, progress, attempts and timestamps; an unknown id or another user's job → 404", async () => {
      const jobId = await newJob(alice);
      const answer = await getJob(alice, jobId);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(
        { ...answer.body, createdAt: undefined, updatedAt: undefined },
        {
          id: jobId,
          kind: 'story_enhancement',
          status: 'PENDING',
          progress: 0,
          stage: null,
          attempts: 0,
          maxAttempts: 3,
          result: null,
          error: null,
          lastEventSeq: 0,
          createdAt: undefined,
          startedAt: null,
          finishedAt: null,
          updatedAt: undefined,
        },
      );
      assert.equal((await getJob(bob, jobId)).status, 404);
      const unknown = await getJob(alice, randomUUID());
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'NOT_FOUND');
      assert.equal((await getJob(alice, 'not-a-uuid')).body.error.code, 'INVALID_ID');
      assert.equal((await call(api, 'GET', `/v1/jobs/${jobId}`)).status, 401);
    });

    test('a COMPLETED map job offers presigned downloads of its JSON and SVG artifacts', async () => {
      const created = await postMap(alice, '# A map\n\nA river.\n', 'text/markdown');
      const jobId = created.body.jobId;
      const json = Buffer.from(JSON.stringify({ regions: [{ name: 'North' }] }));
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>');
      await bucket.store.put(`maps/${jobId}/map.json`, json);
      await bucket.store.put(`maps/${jobId}/map.svg`, svg);
      const w = worker(jobId);
      await w.start();
      await w.complete({ artifacts: { json: `maps/${jobId}/map.json`, svg: `maps/${jobId}/map.svg` } });

      const answer = await getJob(alice, jobId);
      assert.equal(answer.body.status, 'COMPLETED');
      assert.equal(answer.body.progress, 100);
      const downloads = answer.body.downloads!;
      for (const [format, bytes, type] of [
        ['json', json, 'application/json'],
        ['svg', svg, 'image/svg+xml'],
      ] as const) {
        const file = await fetch(downloads[format]!.url);
        assert.equal(file.status, 200, format);
        assert.deepEqual(Buffer.from(await file.arrayBuffer()), bytes);
        assert.equal(file.headers.get('content-type'), type);
        assert.match(
          file.headers.get('content-disposition') ?? '',
          new RegExp(`attachment;.*map-${jobId}\\.${format}`),
        );
      }
      // A story job has no artifacts to download.
      assert.equal((await getJob(alice, await newJob(alice))).body.downloads, undefined);
    });

    test('stats count every kind over all users (authenticated only)', async () => {
      await newJob(bob);
      const stats = await call<{ scope: string; kinds: Array<Record<string, number | string>> }>(
        api,
        'GET',
        '/v1/jobs/stats',
        { token: alice },
      );
      assert.equal(stats.status, 200, stats.text);
      assert.equal(stats.body.scope, 'all');
      const expected = await db.dataSource.query(
        `SELECT kind, count(*)::int AS total, count(*) FILTER (WHERE status = 'PENDING')::int AS pending
           FROM jobs GROUP BY kind ORDER BY kind`,
      );
      assert.deepEqual(
        stats.body.kinds.map((k) => ({ kind: k.kind, total: k.total, pending: k.pending })),
        expected,
      );
      assert.deepEqual(
        stats.body.kinds.map((k) => k.kind),
        ['map_generation', 'story_enhancement'],
      );
      assert.equal((await call(api, 'GET', '/v1/jobs/stats')).status, 401);
    });

    test('cancel: a PENDING job → CANCELLED and subscribers get job_failed; again → 409; another user → 404', async () => {
      const jobId = await newJob(alice);
      const live = await connect(wsUrl(`/v1/jobs/${jobId}/events?access_token=${alice}`));
      assert.equal((await call(api, 'POST', `/v1/jobs/${jobId}/cancel`, { token: bob })).status, 404);
      const cancelled = await call<JobBody>(api, 'POST', `/v1/jobs/${jobId}/cancel`, { token: alice });
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.equal(cancelled.body.status, 'CANCELLED');
      assert.equal(cancelled.body.error, 'cancelled by its owner');
      await live.until(1);
      assert.deepEqual(
        live.events().map((e) => [e.type, e.seq, e.error]),
        [['job_failed', 1, 'cancelled by its owner']],
      );
      await waitFor('socket closed after the final event', () => live.closeCode() === 1000, 5_000);
      const again = await call<ErrorBody>(api, 'POST', `/v1/jobs/${jobId}/cancel`, { token: alice });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'JOB_FINISHED');
      assert.equal(again.body.error.details?.status, 'CANCELLED');
      assert.equal(
        (await call(api, 'POST', `/v1/jobs/${randomUUID()}/cancel`, { token: alice })).status,
        404,
      );
      // A worker's claim of a cancelled job is a no-op.
      assert.equal(await store.claim(sql, jobId, 'w-late', 30_000), undefined);
    });
  });

  describe('progress over WebSocket and SSE', () => {
    test('a client receives job_started, 3 progress updates and job_completed, in order, and the socket then closes', async () => {
      const jobId = await newJob(alice);
      const live = await connect(wsUrl(`/v1/jobs/${jobId}/events`), { authorization: `Bearer ${alice}` });
      const w = worker(jobId);
      await w.start();
      await w.progress(25, 'prompt');
      await w.progress(60, 'llm');
      await w.progress(90, 'store');
      await w.complete({ hypeScore: 4 });
      await live.until(5);
      assert.deepEqual(
        live.events().map((e) => [e.type, e.seq, e.progress]),
        [
          ['job_started', 1, 0],
          ['progress_update', 2, 25],
          ['progress_update', 3, 60],
          ['progress_update', 4, 90],
          ['job_completed', 5, 100],
        ],
      );
      assert.equal(live.frames[0]!.type, 'subscribed');
      await waitFor('closed 1000', () => live.closeCode() === 1000, 5_000);
    });

    test('a client that disconnects mid-job and reconnects with its last seq receives exactly the events it missed', async () => {
      const jobId = await newJob(alice);
      const first = await connect(wsUrl(`/v1/jobs/${jobId}/events?access_token=${alice}`));
      const w = worker(jobId);
      await w.start();
      await w.progress(10, 'a');
      await first.until(2);
      await first.close();
      const lastSeq = first.events().at(-1)!.seq!;
      assert.equal(lastSeq, 2);
      // Missed while away.
      await w.progress(40, 'b');
      await w.progress(70, 'c');

      const second = await connect(
        wsUrl(`/v1/jobs/${jobId}/events?lastSeq=${lastSeq}&access_token=${alice}`),
      );
      assert.deepEqual(
        second.frames.map((f) => [f.type, f.seq]),
        [
          ['progress_update', 3],
          ['progress_update', 4],
          ['subscribed', undefined],
        ],
        'the missed events are replayed before subscribed',
      );
      await w.complete({ ok: true });
      await second.until(3);
      await sleep(200);
      assert.deepEqual(
        second.events().map((e) => e.seq),
        [3, 4, 5],
        'each missed event once, then the live one; nothing from before lastSeq',
      );
      // A reconnect after the end gets the rest and is closed at once.
      const late = await connect(wsUrl(`/v1/jobs/${jobId}/events?lastSeq=4&access_token=${alice}`));
      assert.deepEqual(
        late.events().map((e) => e.seq),
        [5],
      );
      await waitFor('closed 1000', () => late.closeCode() === 1000, 5_000);
    });

    test('a socket without a token, with an invalid one, for another user or an unknown job is refused', async () => {
      const jobId = await newJob(alice);
      const path = `/v1/jobs/${jobId}/events`;
      assert.equal(await refusedUpgrade(wsUrl(path)), 401);
      assert.equal(await refusedUpgrade(wsUrl(`${path}?access_token=garbage`)), 401);
      const stranger = await tokenFor(keys, user('alice'), { key: keys.stranger });
      assert.equal(await refusedUpgrade(wsUrl(path), { authorization: `Bearer ${stranger}` }), 401);
      assert.equal(await refusedUpgrade(wsUrl(`${path}?access_token=${bob}`)), 404);
      assert.equal(await refusedUpgrade(wsUrl(`/v1/jobs/${randomUUID()}/events?access_token=${alice}`)), 404);
      assert.equal(await refusedUpgrade(wsUrl(`/v1/jobs/nope/events?access_token=${alice}`)), 400);
      assert.equal(await refusedUpgrade(wsUrl(`${path}?lastSeq=-1&access_token=${alice}`)), 400);
      assert.equal(await refusedUpgrade(wsUrl('/v1/jobs/events')), 401);
      assert.equal(await refusedUpgrade(wsUrl(`/v1/jobs/events?since=${jobId}:0&access_token=${bob}`)), 404);
      assert.equal(await refusedUpgrade(wsUrl(`/v1/nowhere?access_token=${alice}`)), 404);
    });

    test("the user stream receives the events of the user's jobs only, and replays the jobs named in since", async () => {
      const [mine, other, theirs] = await Promise.all([newJob(alice), newJob(alice), newJob(bob)]);
      const wm = worker(mine);
      await wm.start(); // seq 1, before the stream: replayed only because `since` names the job
      const stream = await connect(wsUrl(`/v1/jobs/events?since=${mine}:0&access_token=${alice}`));
      assert.deepEqual(
        stream.events().map((e) => [e.jobId, e.seq]),
        [[mine, 1]],
      );
      const wt = worker(theirs);
      await wt.start();
      await wt.progress(50, 'x');
      const wo = worker(other);
      await wo.start();
      await wm.progress(50, 'half');
      await wo.complete({});
      await stream.until(4);
      await sleep(300);
      assert.deepEqual(
        stream.events().map((e) => [e.jobId, e.type, e.seq]),
        [
          [mine, 'job_started', 1],
          [other, 'job_started', 1],
          [mine, 'progress_update', 2],
          [other, 'job_completed', 2],
        ],
      );
      assert.ok(!stream.events().some((e) => e.jobId === theirs), "bob's job never shows");
      await stream.close();
    });

    test('SSE: Last-Event-ID resumes after that seq; events carry id = seq; the stream ends after the final event', async () => {
      const jobId = await newJob(alice);
      const w = worker(jobId);
      await w.start();
      await w.progress(30, 'one');
      const response = await fetch(`${api.baseUrl}/v1/jobs/${jobId}/events`, {
        headers: { authorization: `Bearer ${alice}`, accept: 'text/event-stream', 'last-event-id': '1' },
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const text = response.text();
      await sleep(200);
      await w.progress(80, 'two');
      await w.complete({});
      const body = await text;
      const messages = body
        .split('\n\n')
        .filter((block) => block.includes('event:'))
        .map((block) => ({
          id: /^id: (\d+)$/m.exec(block)?.[1],
          event: /^event: (.+)$/m.exec(block)?.[1],
          seq: (JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as Frame).seq,
        }));
      assert.deepEqual(messages, [
        { id: '2', event: 'progress_update', seq: 2 },
        { id: undefined, event: 'subscribed', seq: undefined },
        { id: '3', event: 'progress_update', seq: 3 },
        { id: '4', event: 'job_completed', seq: 4 },
      ]);
      const refused = await call<ErrorBody>(api, 'GET', `/v1/jobs/${jobId}/events`, { token: alice });
      assert.equal(refused.status, 406);
    });

    test('metrics: jobs created by kind and job event streams open', async () => {
      const jobId = await newJob(alice);
      const live = await connect(wsUrl(`/v1/jobs/${jobId}/events?access_token=${alice}`));
      const metrics = await (await fetch(`http://127.0.0.1:${api.process.port}/metrics`)).text();
      assert.match(metrics, /jobs_created_total\{kind="story_enhancement"[^}]*\} [1-9]/);
      assert.match(metrics, /jobs_created_total\{kind="map_generation"[^}]*\} [1-9]/);
      assert.match(metrics, /job_event_streams_open\{transport="websocket",scope="job"[^}]*\} [1-9]/);
      await live.close();
    });

    test('OpenAPI documents the job routes', async () => {
      const doc = await call<{ paths: Record<string, unknown> }>(api, 'GET', '/docs/json');
      for (const path of [
        '/v1/stories',
        '/v1/stories/{id}',
        '/v1/maps',
        '/v1/jobs/{id}',
        '/v1/jobs/stats',
        '/v1/jobs/{id}/cancel',
        '/v1/jobs/{id}/events',
      ]) {
        assert.ok(doc.body.paths[path], `${path} documented`);
      }
    });
  });
});
