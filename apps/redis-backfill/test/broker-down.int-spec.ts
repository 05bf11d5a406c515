import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@fleet/kafka/testing';
import {
  App,
  buildApp,
  checkDelivered,
  fixture,
  keyOrderViolations,
  makeRecords,
  ROOT,
  TopicRecorder,
} from './harness';
import { acquireFaultLock } from './fault-lock';

const infra = (...args: string[]) =>
  execFileSync('bash', ['tools/infra', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

describe('redis-backfill while the broker is down (acceptance)', () => {
  let release: () => void = () => undefined;
  before(
    async () => {
      buildApp();
      release = await acquireFaultLock(20 * 60_000);
    },
    { timeout: 21 * 60_000 },
  );
  after(
    () => {
      try {
        infra('up', 'kafka'); // idempotent: the broker is up again whatever happened
      } finally {
        release();
      }
    },
    { timeout: 5 * 60_000 },
  );

  test('broker down: 5,000 records wait (breaker open, nothing lost, queue metric 5000); broker up: all arrive with keys and headers', async () => {
    const f = await fixture();
    const topic = await f.createTopic('backfill-broker-down');
    const sent = makeRecords(5_000);
    let app: App | undefined;
    let recorder: TopicRecorder | undefined;
    try {
      infra('down', 'kafka');
      try {
        await f.push(topic, sent);
        app = await App.start({
          FALLBACK_KEY_PREFIX: f.prefix,
          FALLBACK_BACKOFF_INITIAL_MS: '200',
          FALLBACK_BACKOFF_MAX_MS: '2000',
          KAFKA_BREAKER_RESET_MS: '2000',
        });
        await app.waitForHealth();
        const started = app;
        await waitFor(
          'the kafka-producer breaker to open',
          async () => (await started.metric('circuit_breaker_state', { breaker: 'kafka-producer' })) === 2,
          60_000,
        );
        // The breaker keeps probing (half-open → open); records never leave Redis meanwhile.
        for (let i = 0; i < 5; i++) {
          const total = (await f.queue.length()) + (await f.queue.processingLength());
          assert.equal(total, 5_000, 'every record is in the queue or in processing');
          await sleep(1_000);
        }
        await waitFor(
          'the queue length metric to show all 5000 records',
          async () => (await started.metric('redis_fallback_queue_length')) === 5_000,
          10_000,
        );
        assert.equal(await app.metric('redis_fallback_drained_total'), undefined, 'nothing sent');
        const ready = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
        assert.equal(ready.status, 503, 'not ready while Kafka is down');
      } finally {
        infra('up', 'kafka');
      }
      const upAt = Date.now();
      const running = app!;
      await waitFor(
        'the queue to drain after the broker came back',
        async () => (await f.queue.length()) === 0 && (await f.queue.processingLength()) === 0,
        120_000,
      );
      const drainMs = Date.now() - upAt;
      recorder = await TopicRecorder.start(f.kafka, [topic]);
      await recorder.waitForDistinct(5_000, 60_000);
      await sleep(1_000);
      const check = checkDelivered(sent, recorder.messages, topic);
      console.log(
        `[broker-down] 5000 records drained ${drainMs} ms after tools/infra up kafka returned; ` +
          `${recorder.distinctIds().size} distinct, ${check.duplicates} duplicates`,
      );
      assert.deepEqual(check.missing, []);
      assert.deepEqual(check.altered, [], 'keys, values and traceparent intact');
      assert.equal(keyOrderViolations(sent, recorder.messages, topic), 0, 'per-key order kept');
      assert.equal(await running.metric('redis_fallback_drained_total'), 5_000);
      assert.equal(await running.metric('circuit_breaker_state', { breaker: 'kafka-producer' }), 0);
      assert.deepEqual(await running.stop(), { code: 0, signal: null });
    } catch (error) {
      console.error(app?.tail(40));
      throw error;
    } finally {
      await app?.stop();
      await recorder?.stop();
      await f.close();
    }
  });
});
