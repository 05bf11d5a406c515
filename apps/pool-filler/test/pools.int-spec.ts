import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fnv1a, sampleFromJsonSchema, type FakeLlmRequest } from '@fleet/llm/testing';
import { POOL_TABLES, type PoolName } from '@fleet/pools';
import { type AppProcess } from '@fleet/service-kit/testing';
import { PoolFixture, sleep } from './harness';

/** The fake's default answer (schema-derived, seeded by the prompt), for responders that alter it. */
const sample = (request: FakeLlmRequest) =>
  sampleFromJsonSchema(request.schema, fnv1a(JSON.stringify(request.messages)));

describe('pool-filler: filling the pools', () => {
  let fx: PoolFixture;
  const workers: AppProcess[] = [];
  const sizes = {
    quests: { minSize: 6, batchSize: 3 },
    npcs: { minSize: 4, batchSize: 2 },
    pois: { minSize: 4, batchSize: 2 },
    encounters: { minSize: 4, batchSize: 2 },
    dungeons: { minSize: 2, batchSize: 1 },
  };

  before(async () => {
    fx = await PoolFixture.create({ sizes });
    await fx.campaign('alpha');
    await fx.campaign('beta');
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await fx?.close();
  });

  async function start(env: Record<string, string> = {}): Promise<AppProcess> {
    const worker = await fx.startWorker({ POOL_ITEMS_PER_CALL: '2', ...env });
    workers.push(worker);
    return worker;
  }

  async function settled(): Promise<void> {
    await fx.waitUntil(
      async () => {
        const jobs = await fx.poolJobs();
        return jobs.length > 0 && jobs.every((j) => j.status !== 'PENDING' && j.status !== 'PROCESSING');
      },
      90_000,
      () => 'pool jobs not all finished',
    );
  }

  test('a check from empty with two replicas fills every pool (both campaigns’ POIs too) to exactly its minimum; each job claimed once', async () => {
    const [a, b] = [await start(), await start()];
    await fx.enqueue('check_all_pools', null, 1);
    await settled();
    // A second check once everything is full enqueues nothing.
    const check = await fx.enqueue('check_all_pools', null, 1);
    await fx.waitForJob(check, ['COMPLETED']);
    await settled();

    for (const pool of ['quests', 'npcs', 'encounters', 'dungeons'] as PoolName[]) {
      assert.equal(await fx.available(pool), sizes[pool].minSize, `${pool} holds exactly its minimum`);
    }
    assert.equal(await fx.available('pois', 'alpha'), 4);
    assert.equal(await fx.available('pois', 'beta'), 4);

    const jobs = await fx.poolJobs();
    assert.ok(
      jobs.every((j) => j.status === 'COMPLETED' && j.attempts === 1),
      'every job completed at its first claim',
    );
    for (const job of jobs.filter((j) => j.kind.startsWith('generate_'))) {
      const pool = job.kind.replace('generate_', '') as PoolName;
      const rows = await fx
        .sql()
        .rows<{ item_index: number }>(
          `SELECT item_index FROM ${POOL_TABLES[pool]} WHERE job_id = $1 ORDER BY 1`,
          [job.id],
        );
      const count = (job.input as { count: number }).count;
      assert.deepEqual(
        rows.map((r) => r.item_index),
        [...Array(count).keys()],
        `${job.kind} stored indexes 0..${count - 1} once each`,
      );
    }
    const started = [...a.logs(), ...b.logs()].filter((l) => l.message === 'job started').map((l) => l.jobId);
    assert.equal(new Set(started).size, started.length, 'no job started on two replicas');
    assert.equal(started.length, jobs.length);
    assert.ok((await a.metric('pool_items_generated_total')) !== undefined);
    assert.equal(
      await a.metric('pool_items_available', { pool: 'quests' }),
      6,
      'the gauge reads the database',
    );
  });

  test('a claim that drops the quest pool below its minimum refills it without any scheduled check', async () => {
    const checksBefore = (await fx.poolJobs()).filter((j) => j.kind === 'check_all_pools').length;
    const claim = await fx.pools.claimQuest(fx.sql(), { characterId: 'hero-1', minLevel: 1, maxLevel: 20 });
    assert.ok(claim.item, 'a quest was claimed');
    assert.equal(claim.available, 5);
    assert.ok(claim.refillJobId, 'the claim enqueued a refill');
    await fx.waitForJob(claim.refillJobId, ['COMPLETED']);
    await settled();
    assert.equal(
      await fx.available('quests'),
      8,
      '5 left + one batch of 3: never more than minimum + one batch',
    );
    const checksAfter = (await fx.poolJobs()).filter((j) => j.kind === 'check_all_pools').length;
    assert.equal(checksAfter, checksBefore, 'no check ran');
  });

  test('a priority-1 job waiting behind priority-10 ones runs first', async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const low = [];
    for (let i = 0; i < 3; i++) low.push(await fx.enqueue('generate_dungeons', { count: 1 }, 10));
    const high = await fx.enqueue('generate_npcs', { count: 1 }, 1);
    await start({ WORKER_CONCURRENCY: '1' });
    await settled();
    const started = await Promise.all(
      [high, ...low].map(async (id) => (await fx.job(id)).startedAt!.getTime()),
    );
    assert.ok(
      started.slice(1).every((t) => t > started[0]!),
      'the priority-1 job started before every priority-10 job, though they were requested first',
    );
  });

  test('items that break the game’s rules or repeat a title are refused, counted by reason, and regenerated', async () => {
    const [existing] = await fx
      .sql()
      .rows<{ title: string }>('SELECT title FROM quest_templates WHERE NOT used LIMIT 1');
    let call = 0;
    fx.llm.setResponder((request) => {
      const answer = sample(request) as { items: Array<Record<string, unknown>> };
      if (request.schemaName !== 'pool_quests') return answer;
      // Fresh titles everywhere else: the fake's seeded titles may repeat one already in the pool,
      // which would be a second (real, but unplanned) duplicate.
      for (const item of answer.items) item.title = `Quest ${randomUUID()}`;
      if (call++ === 0) {
        answer.items[0]!.xp_reward = 4_000; // a valid number, but no reward for a level 3 quest
        answer.items[1]!.title = `${existing!.title.toUpperCase()}!`; // the same normalized title
      }
      return answer;
    });
    try {
      const job = await fx.enqueue('generate_quests', { count: 2, level_range: [3, 3] });
      const done = await fx.waitForJob(job, ['COMPLETED', 'FAILED']);
      assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
      const result = done.result as { stored: number; rejected: Record<string, number> };
      assert.equal(result.stored, 2);
      assert.equal(result.rejected.reward_out_of_range, 1);
      assert.equal(
        result.rejected.duplicate,
        1,
        'a title already available in the pool (case and punctuation aside)',
      );
      const worker = workers[0]!;
      assert.equal(
        await worker.metric('pool_items_rejected_total', { pool: 'quests', reason: 'reward_out_of_range' }),
        1,
      );
      const levels = await fx
        .sql()
        .rows<{ level: number }>('SELECT level FROM quest_templates WHERE job_id = $1', [job]);
      assert.deepEqual(
        levels.map((l) => l.level),
        [3, 3],
      );
    } finally {
      fx.llm.setResponder(undefined);
    }
  });

  test('an LLM that only answers garbage for quests: that job is retried, then FAILED with the reason and dead-lettered; other pools keep filling', async () => {
    fx.llm.setResponder((request) =>
      request.schemaName === 'pool_quests' ? '{"items": [ not json' : sample(request),
    );
    try {
      const bad = await fx.enqueue('generate_quests', { count: 2 });
      const good = await fx.enqueue('generate_npcs', { count: 2 });
      const failed = await fx.waitForJob(bad, ['FAILED', 'COMPLETED'], 90_000);
      assert.equal(failed.status, 'FAILED');
      assert.equal(failed.attempts, 3);
      assert.match(failed.error ?? '', /LLM output invalid/);
      assert.equal((await fx.waitForJob(good, ['COMPLETED', 'FAILED'])).status, 'COMPLETED');
      const dead = await fx.waitUntil(
        async () => fx.dlq.messages.find((m) => m.headers['x-dlq-error-message']?.toString().includes(bad)),
        20_000,
        () => 'no DLQ record naming the failed job',
      );
      assert.equal(dead.headers['x-dlq-error-code']?.toString(), 'LLM_INVALID_OUTPUT');
      assert.ok(((await workers[0]!.metric('llm_errors_total', { class: 'invalid_json' })) ?? 0) >= 3);
    } finally {
      fx.llm.setResponder(undefined);
    }
  });

  test('a job whose input is malformed (written around the SQL checks) is FAILED at once and dead-lettered', async () => {
    const job = await fx.db.dataSource.transaction(
      async (tx) =>
        (await fx.jobs.create(tx, { kind: 'generate_npcs', ownerId: 'test', input: { count: -3 } }, fx.topic))
          .job,
    );
    const failed = await fx.waitForJob(job.id, ['FAILED', 'COMPLETED']);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.attempts, 1, 'not retried');
    assert.match(failed.error ?? '', /count/);
  });

  test('summarize_session: the character’s last messages become a stored summary; no messages → FAILED NO_MESSAGES', async () => {
    const conversation = randomUUID();
    await fx.sql().rows(
      `INSERT INTO conversations (id, channel, recipients, participants, created_by)
       VALUES ($1, 'whatsapp', '{"whatsapp":"+15551234567"}', ARRAY['hero-7','bob'], 'hero-7')`,
      [conversation],
    );
    for (let i = 1; i <= 5; i++) {
      await fx.sql().rows(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, idempotency_key, request_hash, text, created_at)
         VALUES ($1, $2, $3, 'hero-7', $4, 'h', $5, now() - ($6 || ' minutes')::interval)`,
        [randomUUID(), conversation, i, `k${i}`, `I searched the old mill, part ${i}.`, String(10 - i)],
      );
    }
    const job = await fx.enqueue('summarize_session', { character_id: 'hero-7', message_count: 3 });
    const done = await fx.waitForJob(job, ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    const [summary] = await fx
      .sql()
      .rows<{ message_count: number; summary: string }>('SELECT * FROM session_summaries WHERE job_id = $1', [
        job,
      ]);
    assert.equal(summary?.message_count, 3, 'the last 3 of 5');
    assert.ok(summary!.summary.length > 0);
    const prompt = JSON.stringify(fx.llm.calls.at(-1)?.messages);
    assert.ok(prompt.includes('part 5') && prompt.includes('part 3') && !prompt.includes('part 2'));

    const none = await fx.enqueue('summarize_session', { character_id: 'nobody', message_count: 3 });
    const failed = await fx.waitForJob(none, ['FAILED', 'COMPLETED']);
    assert.equal(failed.status, 'FAILED');
    assert.match(failed.error ?? '', /no chat messages/);
  });

  test('GET /health answers the seed’s fields', async () => {
    const worker = workers[0]!;
    const health = (await fetch(`http://127.0.0.1:${worker.port}/health`).then((r) => r.json())) as Record<
      string,
      unknown
    >;
    assert.equal(health.status, 'success');
    assert.equal(health.mode, 'consume');
    assert.equal(typeof health.uptime, 'number');
    assert.ok(typeof health.lastRunTime === 'string' && !Number.isNaN(Date.parse(health.lastRunTime)));
    assert.ok('lastRunError' in health);
    await sleep(0);
  });
});
