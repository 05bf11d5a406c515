import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fallbackRecordSchema } from '@fleet/contracts';
import { captureLogger } from '@fleet/kafka/testing';
import {
  closeRedisClient,
  createRedisClient,
  FallbackQueue,
  fallbackQueueKeys,
  pingRedis,
  RedisRuntimeError,
  type RedisClient,
} from '../src';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let client: RedisClient;
const prefixes: string[] = [];

/** A queue under a fresh key prefix: tests never touch the real `fallback:message_queue`. */
function freshQueue(): FallbackQueue {
  const prefix = `test:${randomUUID()}:`;
  prefixes.push(prefix);
  return new FallbackQueue(client, { keys: fallbackQueueKeys(prefix) });
}

const record = (n: number) => ({
  key: `k${n}`,
  value: JSON.stringify({ n }),
  headers: { 'x-event-id': `e${n}` },
});

async function pushN(queue: FallbackQueue, from: number, to: number): Promise<void> {
  const records = [];
  for (let n = from; n <= to; n++) records.push(record(n));
  await queue.push('test.topic.1', records, 'broker down');
}

const ns = (entries: string[]) => entries.map((raw) => JSON.parse(JSON.parse(raw).value).n as number);
const lockLost = (error: unknown) => error instanceof RedisRuntimeError && error.code === 'LOCK_LOST';

describe('FallbackQueue against a real Redis', () => {
  before(() => {
    client = createRedisClient({ url: REDIS_URL, connectionName: 'redis-lib-test', logger: captureLogger() });
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) {
      const keys = Object.values(fallbackQueueKeys(prefix));
      await client.del(...keys);
    }
  });
  after(() => closeRedisClient(client));

  test('push appends one contract-valid record per Kafka record, each with its own id', async () => {
    const queue = freshQueue();
    await queue.push(
      'chat.message.created.1',
      [
        {
          key: Buffer.from('c1'),
          value: Buffer.from('{"a":1}'),
          headers: { traceparent: Buffer.from('tp') },
        },
        { key: null, value: '{"a":2}', headers: {} },
      ],
      'connection refused',
    );
    assert.equal(await queue.length(), 2);
    const raws = await client.lrange(queue.keys.queue, 0, -1);
    const records = raws.map((raw) => fallbackRecordSchema.parse(JSON.parse(raw)));
    assert.deepEqual(
      records.map(({ topic, key, value, headers, reason }) => ({ topic, key, value, headers, reason })),
      [
        {
          topic: 'chat.message.created.1',
          key: 'c1',
          value: '{"a":1}',
          headers: { traceparent: 'tp' },
          reason: 'connection refused',
        },
        {
          topic: 'chat.message.created.1',
          key: null,
          value: '{"a":2}',
          headers: {},
          reason: 'connection refused',
        },
      ],
    );
    assert.notEqual(records[0]!.id, records[1]!.id);
  });

  test('when one record of a push cannot be encoded, nothing of that push is written', async () => {
    const queue = freshQueue();
    await assert.rejects(
      queue.push('t', [record(1), { key: 'k', value: null, headers: {} }], 'down'),
      (error: unknown) => error instanceof RedisRuntimeError && error.code === 'RECORD_NOT_ENCODABLE',
    );
    assert.equal(await queue.length(), 0);
  });

  test('claim moves up to max entries from the head to processing; ack removes them', async () => {
    const queue = freshQueue();
    const lock = queue.drainLock(10_000);
    assert.ok(await lock.tryAcquire());
    await pushN(queue, 1, 5);

    const first = await queue.claim(lock, 3);
    assert.equal(first.recovered, false);
    assert.deepEqual(ns(first.entries), [1, 2, 3]);
    assert.equal(await queue.length(), 2);
    assert.equal(await queue.processingLength(), 3);

    assert.equal(await queue.ack(lock), 3);
    assert.equal(await queue.processingLength(), 0);
    const second = await queue.claim(lock, 3);
    assert.deepEqual(ns(second.entries), [4, 5]);
    await queue.ack(lock);
    assert.deepEqual(await queue.claim(lock, 3), { recovered: false, entries: [] });
  });

  test('when processing is not empty (a drainer died), claim returns it and takes nothing new', async () => {
    const queue = freshQueue();
    const dead = queue.drainLock(10_000);
    assert.ok(await dead.tryAcquire());
    await pushN(queue, 1, 6);
    await queue.claim(dead, 4); // … and the drainer is killed here, its lock released by expiry
    await client.del(queue.keys.lock);

    const next = queue.drainLock(10_000);
    assert.ok(await next.tryAcquire());
    const recovered = await queue.claim(next, 2);
    assert.equal(recovered.recovered, true);
    assert.deepEqual(ns(recovered.entries), [1, 2, 3, 4], 'all of processing, even beyond max');
    assert.equal(await queue.length(), 2, 'nothing new taken');
  });

  test('requeue puts processing back at the head of the queue in its original order', async () => {
    const queue = freshQueue();
    const lock = queue.drainLock(10_000);
    assert.ok(await lock.tryAcquire());
    await pushN(queue, 1, 3);
    await queue.claim(lock, 2);
    await pushN(queue, 4, 4); // arrives while 1 and 2 are being sent
    assert.equal(await queue.requeue(lock), 2);
    assert.equal(await queue.processingLength(), 0);
    assert.deepEqual(ns(await client.lrange(queue.keys.queue, 0, -1)), [1, 2, 3, 4]);
  });

  test('deadLetter moves one claimed entry to the dead list with its reason; ackEntry removes one', async () => {
    const queue = freshQueue();
    const lock = queue.drainLock(10_000);
    assert.ok(await lock.tryAcquire());
    await pushN(queue, 1, 3);
    const { entries } = await queue.claim(lock, 3);

    assert.equal(await queue.deadLetter(lock, entries[1]!, 'SCHEMA_INVALID: topic: required'), true);
    assert.equal(await queue.deadLetter(lock, 'not claimed', 'x'), false, 'unknown entry: nothing changes');
    assert.equal(await queue.ackEntry(lock, entries[0]!), true);
    assert.equal(await queue.ackEntry(lock, entries[0]!), false);

    assert.deepEqual(ns(await client.lrange(queue.keys.processing, 0, -1)), [3]);
    assert.equal(await queue.deadLength(), 1);
    const [deadEntry] = await queue.readDead();
    assert.equal(deadEntry!.raw, entries[1]);
    assert.equal(deadEntry!.reason, 'SCHEMA_INVALID: topic: required');
    assert.ok(!Number.isNaN(Date.parse(deadEntry!.deadAt)));
  });

  test('every drain step is refused with LOCK_LOST for a token that does not hold the lock', async () => {
    const queue = freshQueue();
    const holder = queue.drainLock(10_000);
    const stranger = queue.drainLock(10_000);
    await pushN(queue, 1, 3);
    await assert.rejects(queue.claim(stranger, 2), lockLost, 'nobody holds it');
    assert.ok(await holder.tryAcquire());
    await queue.claim(holder, 2);

    await assert.rejects(queue.claim(stranger, 2), lockLost);
    await assert.rejects(queue.ack(stranger), lockLost);
    await assert.rejects(queue.ackEntry(stranger, 'x'), lockLost);
    await assert.rejects(queue.requeue(stranger), lockLost);
    const [raw] = await client.lrange(queue.keys.processing, 0, 0);
    await assert.rejects(queue.deadLetter(stranger, raw!, 'x'), lockLost);

    assert.equal(await queue.length(), 1);
    assert.equal(await queue.processingLength(), 2);
    assert.equal(await queue.deadLength(), 0);
  });

  test('claim refuses a batch size outside 1..1000', async () => {
    const queue = freshQueue();
    const lock = queue.drainLock(10_000);
    await assert.rejects(queue.claim(lock, 0), RangeError);
    await assert.rejects(queue.claim(lock, 1_001), RangeError);
  });
});

describe('DrainLock against a real Redis', () => {
  before(() => {
    client = createRedisClient({ url: REDIS_URL, connectionName: 'redis-lib-test', logger: captureLogger() });
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await client.del(...Object.values(fallbackQueueKeys(prefix)));
  });
  after(() => closeRedisClient(client));

  test('one holder at a time; renew and release only by the holder', async () => {
    const queue = freshQueue();
    const a = queue.drainLock(10_000);
    const b = queue.drainLock(10_000);
    assert.equal(await a.tryAcquire(), true);
    assert.equal(await a.tryAcquire(), true, 're-acquiring an own lock renews it');
    assert.equal(await b.tryAcquire(), false);
    assert.equal(await b.renew(), false);
    assert.equal(await b.release(), false);
    assert.equal(await client.get(queue.keys.lock), a.token, 'a stranger cannot delete it');
    assert.equal(await a.release(), true);
    assert.equal(await b.tryAcquire(), true, 'a standby takes over at once after release');
  });

  test('when the holder stops renewing, the lock expires and its old token can neither renew nor release', async () => {
    const queue = freshQueue();
    const old = queue.drainLock(300);
    const standby = queue.drainLock(10_000);
    assert.ok(await old.tryAcquire());
    await sleep(50);
    assert.equal(await old.renew(), true);
    assert.ok((await client.pttl(queue.keys.lock)) > 250, 'renew extends the TTL');
    await sleep(400);
    assert.equal(await standby.tryAcquire(), true);
    assert.equal(await old.renew(), false);
    assert.equal(await old.release(), false);
    assert.equal(await client.get(queue.keys.lock), standby.token);
  });
});

describe('createRedisClient', () => {
  test('pingRedis resolves against a live server', async () => {
    const live = createRedisClient({ url: REDIS_URL, connectionName: 'ping-test', logger: captureLogger() });
    try {
      await pingRedis(live);
    } finally {
      await closeRedisClient(live);
    }
  });

  test('when nothing listens, commands fail within seconds and errors are logged, not thrown', async () => {
    const logger = captureLogger();
    // Port 1 on loopback: connection refused at once.
    const dead = createRedisClient({ url: 'redis://127.0.0.1:1', connectionName: 'dead-test', logger });
    try {
      const started = Date.now();
      await assert.rejects(pingRedis(dead));
      assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
      await sleep(500);
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      assert.equal(warnings.length, 1, 'one warning per outage, not one per reconnect attempt');
      assert.match(JSON.stringify(warnings[0]!.fields), /ECONNREFUSED/);
    } finally {
      await closeRedisClient(dead);
    }
  });
});
