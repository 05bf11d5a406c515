import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AppProcess } from '@fleet/service-kit/testing';
import { GenerationFixture, sleep } from './harness';

const SCORES = {
  hypeScore: 6,
  ethicsScore: 4.5,
  realityCheck: 'Plausible, but only a lab demo so far.',
  eli5Summary: 'Scientists showed a new trick in their lab; it is not in shops yet.',
};
/** Simulated generation speed that makes one answer take about `seconds`. */
const slow = (seconds: number) => Math.ceil(JSON.stringify(SCORES).length / 4) / seconds;

describe('generation: crashes and shutdowns', () => {
  let fx: GenerationFixture;
  const workers: AppProcess[] = [];

  before(async () => {
    fx = await GenerationFixture.create();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await fx?.close();
  });

  async function startWorker(env: Record<string, string> = {}): Promise<AppProcess> {
    // A short session: the killed worker's partitions move on within seconds rather than 30 s.
    const worker = await fx.startWorker({
      JOB_LEASE_MS: '3000',
      GENERATION_SESSION_TIMEOUT_MS: '6000',
      ...env,
    });
    workers.push(worker);
    return worker;
  }

  async function waitForLlmCall(count: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (fx.llm.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`no LLM call #${count}; logs: ${fx.logFiles()}`);
      await sleep(50);
    }
  }

  test('a worker SIGKILLed mid-job: the lease expires, another worker’s reaper requeues it, and it completes once', async () => {
    fx.llm.reset();
    fx.llm.setResponder(() => SCORES);
    fx.llm.setSpeed({ tokensPerSecond: slow(8) });
    const first = await startWorker();
    const { story, job } = await fx.createStory();
    await waitForLlmCall(1);
    assert.equal((await fx.job(job.id)).status, 'PROCESSING');
    await first.stop('SIGKILL');
    fx.llm.setSpeed({ tokensPerSecond: 2_000 });

    const second = await startWorker();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 60_000);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 2, 'the killed attempt counted, the second one completed');
    assert.ok(
      second.logs().some((l) => l.message === 'reaped a job; requeued' && l.jobId === job.id),
      'the second worker’s reaper took it back',
    );

    const events = await fx.replay(job.id);
    assert.equal(events.filter((e) => e.type === 'job_completed').length, 1, 'one result');
    assert.equal(events.filter((e) => e.type === 'job_started').length, 2);
    assert.deepEqual(
      events.map((e) => e.seq),
      [...events.map((e) => e.seq)].sort((a, b) => a - b),
    );
    const enhanced = await fx.story(story.id);
    assert.equal(enhanced.enhancementStatus, 'ENHANCED');
    assert.equal(enhanced.hypeScore, 6);
    // Give a stray redelivery time to show up: nothing more happens to the job.
    await sleep(2_000);
    const later = await fx.job(job.id);
    assert.equal(later.attempts, 2);
    assert.equal(later.status, 'COMPLETED');
    assert.equal(
      second.logs().filter((l) => l.message === 'job completed' && l.jobId === job.id).length,
      1,
      'completed by one worker, once',
    );
    await second.stop();
  });

  test('SIGTERM while a job runs past the drain time: the job is released (attempt not counted) and another worker completes it', async () => {
    fx.llm.reset();
    fx.llm.setResponder(() => SCORES);
    fx.llm.setSpeed({ tokensPerSecond: slow(20) });
    const first = await startWorker({ GENERATION_SHUTDOWN_DRAIN_MS: '1000' });
    const { job } = await fx.createStory();
    await waitForLlmCall(1);
    const exited = await first.stop('SIGTERM');
    assert.equal(exited.code, 0);
    const released = await fx.job(job.id);
    assert.equal(released.status, 'PENDING');
    assert.equal(released.attempts, 0, 'a release gives the attempt back');
    assert.match(released.error ?? '', /released at shutdown/);

    fx.llm.setSpeed({ tokensPerSecond: 2_000 });
    const second = await startWorker();
    const done = await fx.waitForJob(job.id, ['COMPLETED', 'FAILED'], 60_000);
    assert.equal(done.status, 'COMPLETED', `error: ${done.error}`);
    assert.equal(done.attempts, 1);
    await second.stop();
  });

  test('SIGTERM while a short job runs: it finishes within the drain time before the worker exits', async () => {
    fx.llm.reset();
    fx.llm.setResponder(() => SCORES);
    fx.llm.setSpeed({ tokensPerSecond: slow(2) });
    const worker = await startWorker({ GENERATION_SHUTDOWN_DRAIN_MS: '10000' });
    const { job } = await fx.createStory();
    await waitForLlmCall(1);
    const exited = await worker.stop('SIGTERM');
    assert.equal(exited.code, 0);
    const done = await fx.job(job.id);
    assert.equal(done.status, 'COMPLETED');
    assert.equal(done.attempts, 1);
  });
});
