import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetHeaders } from '@fleet/contracts';
import { freePort, type AppProcess } from '@fleet/service-kit/testing';
import { GenerationFixture, sleep } from './harness';

const SCORES = {
  hypeScore: 8.5,
  ethicsScore: 3,
  realityCheck: 'No benchmarks were published; the claim is unverified.',
  eli5Summary: 'A company says its new computer chip is super fast, but nobody has checked yet.',
};

const header = (message: { headers: Record<string, string> }, name: string) => message.headers[name];

describe('generation: story enhancement', () => {
  let fx: GenerationFixture;
  let worker: AppProcess | undefined;

  before(async () => {
    fx = await GenerationFixture.create();
  });
  after(async () => {
    await worker?.stop();
    await fx?.close();
  });

  /** One worker per test (each test wants its own env); the previous one leaves the group first. */
  async function startWorker(env: Record<string, string> = {}): Promise<AppProcess> {
    await worker?.stop();
    fx.llm.reset();
    fx.llm.setResponder((request) => (request.schemaName === 'story_enhancement' ? SCORES : undefined));
    worker = await fx.startWorker(env);
    return worker;
  }

  test('a story job completes with the fake LLM’s scores; its events come in seq order: started, ≥ 3 progress, completed', async () => {
    await startWorker();
    const { story, job } = await fx.createStory();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 1);
    assert.equal(done.progress, 100);
    const result = done.result as { storyId: string; enhancedScores: typeof SCORES; processingTime: number };
    assert.equal(result.storyId, story.id);
    assert.deepEqual(result.enhancedScores, SCORES);
    assert.ok(result.processingTime >= 0);

    const enhanced = await fx.story(story.id);
    assert.equal(enhanced.scoresSource, 'llm');
    assert.equal(enhanced.enhancementStatus, 'ENHANCED');
    assert.equal(enhanced.hypeScore, 8.5);
    assert.equal(enhanced.ethicsScore, 3);
    assert.equal(enhanced.realityCheck, SCORES.realityCheck);
    assert.equal(enhanced.processingTimeMs, result.processingTime);

    const events = await fx.replay(job.id);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'job_started');
    assert.equal(types.at(-1), 'job_completed');
    assert.ok(types.filter((t) => t === 'progress_update').length >= 3, types.join(','));
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'seq 1, 2, 3 … without gaps',
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'progress_update').map((e) => e.stage),
      ['load', 'enhance', 'save'],
    );
    assert.equal(events.at(-1)!.progress, 100);
    assert.equal(fx.llm.calls.length, 1);
    assert.equal(
      await worker!.metric('generation_jobs_total', { kind: 'story_enhancement', outcome: 'completed' }),
      1,
    );
  });

  test('an LLM call longer than the Kafka session timeout: the job completes once, the group never rebalances', async () => {
    const w = await startWorker({ GENERATION_SESSION_TIMEOUT_MS: '6000' });
    // ~10 s of simulated generation for this answer.
    const tokens = Math.ceil(JSON.stringify(SCORES).length / 4);
    fx.llm.setSpeed({ tokensPerSecond: tokens / 10 });
    const joinsBefore = await w.metric('kafka_consumer_group_joins_total');
    assert.ok(joinsBefore !== undefined && joinsBefore >= 2, `joined main and retry groups (${joinsBefore})`);
    const { job } = await fx.createStory();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 90_000);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 1, 'claimed once');
    assert.equal(fx.llm.calls.length, 1, 'one LLM call');
    const call = fx.llm.calls[0]!;
    assert.ok(
      call.finishedAt! - call.startedAt! >= 9_000,
      `the call took ${call.finishedAt! - call.startedAt!} ms`,
    );
    await sleep(1_000);
    assert.equal(
      await w.metric('kafka_consumer_group_joins_total'),
      joinsBefore,
      'no rebalance (no new join)',
    );
    const started = w.logs().filter((l) => l.message === 'job started' && l.jobId === job.id);
    assert.equal(started.length, 1);
    assert.equal(fx.dlqFor(job.id).length, 0);
  });

  test('invalid JSON twice, then valid: the client’s own retries make it COMPLETED in one attempt', async () => {
    await startWorker();
    fx.llm.invalidJsonNext(2);
    const { story, job } = await fx.createStory();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED']);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 1);
    assert.equal(fx.llm.calls.length, 3);
    assert.equal((await fx.story(story.id)).enhancementStatus, 'ENHANCED');
  });

  test('always invalid JSON: FAILED after 3 attempts with the reason, the story keeps its local scores, one DLQ record', async () => {
    await startWorker();
    fx.llm.invalidJsonAlways();
    const { story, job } = await fx.createStory();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 90_000);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.attempts, 3);
    assert.match(done.error ?? '', /^LLM output invalid: .*invalid_json/);
    assert.equal(fx.llm.calls.length, 9, '3 attempts × (1 + 2 output retries)');
    const after = await fx.story(story.id);
    assert.equal(after.enhancementStatus, 'FAILED');
    assert.equal(after.scoresSource, 'local');
    assert.equal(after.hypeScore, story.hypeScore);

    await waitUntil(() => fx.dlqFor(job.id).length > 0, 15_000, 'the DLQ record');
    const [record] = fx.dlqFor(job.id);
    assert.equal(header(record!, FleetHeaders.dlqErrorCode), 'LLM_INVALID_OUTPUT');
    assert.match(
      header(record!, FleetHeaders.dlqErrorMessage) ?? '',
      /FAILED after 3 attempt\(s\): LLM output invalid/,
    );
    const events = await fx.replay(job.id);
    assert.equal(events.at(-1)!.type, 'job_failed');
    assert.equal(events.filter((e) => e.type === 'job_started').length, 3);
    await sleep(2_000);
    assert.equal(fx.dlqFor(job.id).length, 1, 'one DLQ record');
    assert.equal(fx.llm.calls.length, 9, 'no further attempts');
  });

  test('LLM answering 500: the breaker opens after its threshold, and closes after recovery', async () => {
    const w = await startWorker({
      LLM_UNAVAILABLE_RETRIES: '0',
      LLM_BREAKER_MINIMUM_CALLS: '3',
      LLM_BREAKER_RESET_MS: '3000',
    });
    const state = () => w.metric('circuit_breaker_state', { breaker: 'llm-primary' });
    assert.equal(await state(), 0);
    fx.llm.failAlways(500);
    const { job } = await fx.createStory();
    await waitUntil(async () => (await state()) === 2, 30_000, 'the breaker to open');
    const failed = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 30_000);
    assert.equal(failed.status, 'FAILED');
    assert.match(failed.error ?? '', /^LLM unavailable: /);

    fx.llm.recover();
    const { job: next } = await fx.createStory();
    const done = await fx.waitForJob(next.id, ['COMPLETED', 'FAILED'], 30_000);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(await state(), 0, 'closed again');
  });

  test('no LLM reachable: the story keeps its local scores and the job ends FAILED "LLM unavailable" after 3 attempts, not retried forever', async () => {
    const closedPort = await freePort();
    await startWorker({
      ready: 'live', // readiness reports the LLM down, which is the point
      LOCAL_LLM_ENDPOINT: `http://127.0.0.1:${closedPort}/v1`,
      LLM_BREAKER_RESET_MS: '1000',
      LLM_UNAVAILABLE_RETRY_DELAY_MS: '100',
    });
    const ready = await fetch(`http://127.0.0.1:${worker!.port}/health/ready`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /llm/);

    const { story, job } = await fx.createStory();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 60_000);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.attempts, 3);
    assert.match(done.error ?? '', /^LLM unavailable: /);
    const after = await fx.story(story.id);
    assert.equal(after.enhancementStatus, 'LLM_UNAVAILABLE');
    assert.equal(after.scoresSource, 'local');
    assert.equal(after.hypeScore, story.hypeScore);
    assert.equal(after.ethicsScore, story.ethicsScore);
    await waitUntil(() => fx.dlqFor(job.id).length > 0, 15_000, 'the DLQ record');
    assert.equal(header(fx.dlqFor(job.id)[0]!, FleetHeaders.dlqErrorCode), 'LLM_UNAVAILABLE');
    await sleep(3_000);
    const later = await fx.job(job.id);
    assert.equal(later.status, 'FAILED');
    assert.equal(later.attempts, 3, 'no further attempts');
  });
});

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
