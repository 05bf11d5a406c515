import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@fleet/kafka/testing';
import {
  App,
  buildApp,
  checkDelivered,
  fixture,
  keyOrderViolations,
  makeRecords,
  TopicRecorder,
  type Fixture,
} from './harness';

async function drained(f: Fixture, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'the fallback queue and processing list to be empty',
    async () => (await f.queue.length()) === 0 && (await f.queue.processingLength()) === 0,
    timeoutMs,
  );
}

describe('redis-backfill drains the fallback list into Kafka (real Redis and broker)', () => {
  before(() => buildApp());

  test('records land on their topics with key, value and headers intact; an unparseable entry goes to the dead list and the rest still drain', async () => {
    const f = await fixture();
    const topicA = await f.createTopic('backfill-a');
    const topicB = await f.createTopic('backfill-b');
    const sentA = makeRecords(120);
    const sentB = makeRecords(30);
    await f.push(topicA, sentA.slice(0, 60));
    await f.redis.rpush(f.queue.keys.queue, '{not json', JSON.stringify({ id: 'x', topic: topicA }));
    await f.push(topicB, sentB);
    await f.push(topicA, sentA.slice(60));
    const recorder = await TopicRecorder.start(f.kafka, [topicA, topicB]);
    const app = await App.start({ FALLBACK_KEY_PREFIX: f.prefix, FALLBACK_BATCH_SIZE: '50' });
    try {
      await drained(f);
      await recorder.waitForDistinct(150, 30_000);
      await sleep(1_000); // duplicates would show up here

      const a = checkDelivered(sentA, recorder.messages, topicA);
      const b = checkDelivered(sentB, recorder.messages, topicB);
      assert.deepEqual(a, { missing: [], altered: [], duplicates: 0 });
      assert.deepEqual(b, { missing: [], altered: [], duplicates: 0 });
      assert.equal(keyOrderViolations(sentA, recorder.messages, topicA), 0, 'per-key order kept');
      assert.ok(
        recorder.messages.every((m) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(m.headers.traceparent ?? '')),
        'traceparent forwarded as queued, so the trace continues',
      );

      const dead = await f.queue.readDead();
      assert.equal(dead.length, 2);
      assert.equal(dead[0]!.raw, '{not json');
      assert.match(dead[0]!.reason, /^MALFORMED_JSON: /);
      assert.match(dead[1]!.reason, /^SCHEMA_INVALID: .*value/);

      assert.equal(await app.metric('redis_fallback_drained_total', { topic: topicA }), 120);
      assert.equal(await app.metric('redis_fallback_drained_total', { topic: topicB }), 30);
      assert.equal(await app.metric('redis_fallback_dead_lettered_total', { reason: 'MALFORMED_JSON' }), 1);
      assert.equal(await app.metric('redis_fallback_dead_lettered_total', { reason: 'SCHEMA_INVALID' }), 1);
      assert.equal(await app.metric('redis_fallback_queue_length'), 0);
      assert.equal(await app.metric('redis_fallback_dead_length'), 2);
      assert.equal(await app.metric('circuit_breaker_state', { breaker: 'kafka-producer' }), 0);
      const ready = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
      assert.equal(ready.status, 200, JSON.stringify(await ready.json()));

      assert.deepEqual(await app.stop(), { code: 0, signal: null }, 'SIGTERM exits 0');
      assert.equal(await f.redis.exists(f.queue.keys.lock), 0, 'the lock is released at shutdown');
    } catch (error) {
      console.error(app.tail());
      throw error;
    } finally {
      await app.stop();
      await recorder.stop();
      await f.close();
    }
  });

  test('when the broker rejects records (unknown topic), they reach the dead list after bounded tries and the others flow', async () => {
    const f = await fixture();
    const topic = await f.createTopic('backfill-rejected');
    const good = makeRecords(40);
    const missingTopic = `${topic.slice(0, -2)}-missing.1`;
    const bad = makeRecords(2);
    await f.push(topic, good.slice(0, 20));
    await f.push(missingTopic, bad);
    await f.push(topic, good.slice(20));
    const recorder = await TopicRecorder.start(f.kafka, [topic]);
    const app = await App.start({
      FALLBACK_KEY_PREFIX: f.prefix,
      FALLBACK_MAX_REJECTIONS: '2',
      FALLBACK_BACKOFF_INITIAL_MS: '100',
    });
    try {
      await drained(f, 90_000);
      await recorder.waitForDistinct(40, 30_000);
      const check = checkDelivered(good, recorder.messages, topic);
      assert.deepEqual(check.missing, []);
      const dead = await f.queue.readDead();
      assert.equal(dead.length, 2);
      assert.ok(
        dead.every((d) => /^REJECTED_BY_BROKER: .*rejected 2 times/.test(d.reason)),
        dead.map((d) => d.reason).join('\n'),
      );
      assert.equal(
        await app.metric('redis_fallback_dead_lettered_total', { reason: 'REJECTED_BY_BROKER' }),
        2,
      );
      assert.equal(
        await app.metric('circuit_breaker_state', { breaker: 'kafka-producer' }),
        0,
        'rejections do not open the breaker',
      );
    } catch (error) {
      console.error(app.tail());
      throw error;
    } finally {
      await app.stop();
      await recorder.stop();
      await f.close();
    }
  });

  test('SIGKILL mid-drain, then restart: every one of 5,000 records is on the topic, nothing left in processing', async () => {
    const f = await fixture();
    const topic = await f.createTopic('backfill-kill');
    const sent = makeRecords(5_000);
    await f.push(topic, sent);
    const recorder = await TopicRecorder.start(f.kafka, [topic]);
    const env = { FALLBACK_KEY_PREFIX: f.prefix, FALLBACK_BATCH_SIZE: '50', FALLBACK_LOCK_TTL_MS: '3000' };
    const started = Date.now();
    const first = await App.start(env);
    let second: App | undefined;
    try {
      await waitFor('about half the records drained', async () => (await f.queue.length()) <= 2_500, 60_000);
      first.child.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');
      const killedAt = { queue: await f.queue.length(), processing: await f.queue.processingLength() };
      const onTopicAtKill = recorder.distinctIds().size;

      second = await App.start(env);
      await drained(f, 90_000);
      await recorder.waitForDistinct(5_000, 60_000);
      const elapsedMs = Date.now() - started;
      await sleep(1_000);

      const check = checkDelivered(sent, recorder.messages, topic);
      console.log(
        `[sigkill] killed with queue=${killedAt.queue} processing=${killedAt.processing} ` +
          `(${onTopicAtKill} distinct on the topic at kill, consumer lagging); after restart: ` +
          `${recorder.distinctIds().size} distinct of 5000, ${check.duplicates} duplicates, ` +
          `${recorder.messages.length} deliveries, ${elapsedMs} ms including the 3 s lock TTL`,
      );
      assert.deepEqual(check.missing, [], 'nothing lost');
      assert.deepEqual(check.altered, []);
      assert.ok(
        check.duplicates <= 50,
        `duplicates bounded by the one in-flight batch, got ${check.duplicates}`,
      );
      assert.equal(
        keyOrderViolations(sent, recorder.messages, topic),
        0,
        'per-key order kept (first copies)',
      );
      assert.equal(await f.queue.processingLength(), 0);
      if (killedAt.processing > 0) {
        assert.ok(
          second.logs().some((l) => /recovering records/.test(String(l.message))),
          'the restarted drainer recovered the processing list',
        );
      }
    } catch (error) {
      console.error(second?.tail() ?? first.tail());
      throw error;
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      await second?.stop();
      await recorder.stop();
      await f.close();
    }
  });

  test('two replicas at once: only the lock holder drains, all records arrive once; the standby takes over at SIGTERM', async () => {
    const f = await fixture();
    const topic = await f.createTopic('backfill-replicas');
    const sent = makeRecords(2_000);
    await f.push(topic, sent);
    const recorder = await TopicRecorder.start(f.kafka, [topic]);
    const env = { FALLBACK_KEY_PREFIX: f.prefix, FALLBACK_BATCH_SIZE: '20', FALLBACK_LOCK_TTL_MS: '3000' };
    const replicas = await Promise.all([App.start(env), App.start(env)]);
    try {
      await Promise.all(replicas.map((r) => r.waitForHealth()));
      await drained(f);
      await recorder.waitForDistinct(2_000, 30_000);
      await sleep(1_000);
      const check = checkDelivered(sent, recorder.messages, topic);
      assert.deepEqual(
        { missing: check.missing.length, duplicates: check.duplicates },
        { missing: 0, duplicates: 0 },
      );

      const drainedBy = await Promise.all(
        replicas.map(async (r) => (await r.metric('redis_fallback_drained_total')) ?? 0),
      );
      const activeFlags = await Promise.all(replicas.map((r) => r.metric('redis_fallback_drainer_active')));
      console.log(
        `[replicas] drained per replica: ${drainedBy.join(' / ')}; active: ${activeFlags.join(' / ')}`,
      );
      assert.deepEqual(
        [...drainedBy].sort((x, y) => x - y),
        [0, 2_000],
        'one replica drained everything',
      );
      assert.deepEqual([...activeFlags].sort(), [0, 1]);

      const activeIndex = activeFlags.indexOf(1);
      const active = replicas[activeIndex]!;
      const standby = replicas[1 - activeIndex]!;
      assert.deepEqual(await active.stop(), { code: 0, signal: null });
      const more = makeRecords(100);
      await f.push(topic, more);
      const tookOver = Date.now();
      await waitFor(
        'the standby to drain after the holder left',
        async () => (await f.queue.length()) === 0,
        20_000,
      );
      console.log(
        `[replicas] standby drained new records ${Date.now() - tookOver} ms after the holder's SIGTERM`,
      );
      await recorder.waitForDistinct(2_100, 30_000);
      assert.equal(await standby.metric('redis_fallback_drainer_active'), 1);
      assert.equal(await standby.metric('redis_fallback_drained_total'), 100);
    } catch (error) {
      for (const r of replicas) console.error(r.tail(10));
      throw error;
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await recorder.stop();
      await f.close();
    }
  });
});
