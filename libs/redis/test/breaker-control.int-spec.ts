import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Breaker, BreakerOpenError } from '@fleet/circuit-breaker';
import { captureLogger } from '@fleet/kafka/testing';
import { Registry } from 'prom-client';
import {
  BreakerControl,
  BreakerFleet,
  breakerControlKeys,
  closeRedisClient,
  createRedisClient,
  type BreakerControlKeys,
  type RedisClient,
} from '../src';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let client: RedisClient;
const running: BreakerControl[] = [];
const breakers: Breaker[] = [];
const prefixes: string[] = [];

/** Keys under a fresh prefix: tests never touch the real fleet's `fleet:breakers:*`. */
function freshKeys(): BreakerControlKeys {
  const prefix = `test:${randomUUID()}:breakers`;
  prefixes.push(prefix);
  return breakerControlKeys(prefix);
}

/** One "replica": its own registry with a `kafka-producer` breaker, and a control on `keys`. */
function replica(keys: BreakerControlKeys, name: string, options: { resyncMs?: number } = {}) {
  const registry = new Registry();
  const breaker = new Breaker({
    name: 'kafka-producer',
    registry,
    logger: captureLogger(),
    resetTimeoutMs: 50,
  });
  breakers.push(breaker);
  const control = new BreakerControl({
    url: REDIS_URL,
    keys,
    app: 'test-app',
    replica: name,
    registry,
    logger: captureLogger(),
    heartbeatMs: 200,
    ...options,
  });
  running.push(control);
  return { registry, breaker, control };
}

describe('BreakerControl and BreakerFleet against a real Redis', () => {
  before(() => {
    client = createRedisClient({
      url: REDIS_URL,
      connectionName: 'breaker-control-test',
      logger: captureLogger(),
    });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    for (const b of breakers.splice(0)) b.shutdown();
    for (const prefix of prefixes.splice(0)) {
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length > 0) await client.del(...keys);
    }
  });
  after(() => closeRedisClient(client));

  test('an override forced while two replicas run reaches both within a second; a reset closes both', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    const b = replica(keys, 'b');
    await Promise.all([a.control.start(), b.control.start()]);

    const started = performance.now();
    const { command, override } = await fleet.force('kafka-producer', 'open', {
      actor: 'op',
      reason: 'drill',
    });
    const rollout = await fleet.awaitApplied('kafka-producer', command.id, { timeoutMs: 1_000 });
    const ms = performance.now() - started;
    console.log(`# override applied and reported by both replicas in ${ms.toFixed(1)} ms`);
    assert.deepEqual(rollout.applied.map((r) => r.replica).sort(), ['a', 'b']);
    assert.deepEqual(rollout.pending, []);
    assert.ok(ms < 1_000, `took ${ms} ms`);
    for (const { breaker } of [a, b]) {
      assert.equal(breaker.state, 'open');
      await assert.rejects(
        breaker.run(async () => 'called'),
        BreakerOpenError,
      );
    }
    const reported = rollout.applied[0]!.breakers.find((x) => x.name === 'kafka-producer')!;
    assert.equal(reported.state, 'open');
    assert.deepEqual(
      { mode: reported.override?.mode, actor: reported.override?.actor, id: reported.override?.id },
      { mode: 'open', actor: 'op', id: override.id },
    );
    assert.equal(reported.lastCommandId, command.id);
    assert.equal((await fleet.overrides()).get('kafka-producer')?.id, override.id);

    const reset = await fleet.reset('kafka-producer');
    assert.equal(reset.released?.id, override.id);
    const afterReset = await fleet.awaitApplied('kafka-producer', reset.command.id, { timeoutMs: 1_000 });
    assert.equal(afterReset.applied.length, 2);
    for (const { breaker } of [a, b]) {
      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.override, undefined);
      assert.equal(await breaker.run(async () => 'called'), 'called');
    }
    assert.equal((await fleet.overrides()).size, 0);
  });

  test('a replica starting while an override is in force applies it before start resolves', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    await fleet.force('kafka-producer', 'closed', { actor: 'op', reason: 'known harmless errors' });
    const a = replica(keys, 'late');
    await a.control.start();
    assert.equal(a.breaker.override?.mode, 'closed');
    assert.equal(a.breaker.override?.reason, 'known harmless errors');
  });

  test('an override written without its message (a missed publish) applies at the next resync', async () => {
    const keys = freshKeys();
    const a = replica(keys, 'a', { resyncMs: 200 });
    await a.control.start();
    const record = {
      id: randomUUID(),
      mode: 'open',
      reason: 'missed',
      actor: 'op',
      at: new Date().toISOString(),
    };
    await client.hset(keys.overrides, 'kafka-producer', JSON.stringify(record));
    // A function, so the compiler does not narrow the state across the awaits.
    const state = (): string => a.breaker.state;
    const deadline = Date.now() + 2_000;
    while (state() !== 'open' && Date.now() < deadline) await sleep(20);
    assert.equal(state(), 'open');
    // And its release, also without a message: the replica resets what it had applied.
    await client.hdel(keys.overrides, 'kafka-producer');
    while (state() !== 'closed' && Date.now() < deadline + 2_000) await sleep(20);
    assert.equal(state(), 'closed');
    assert.equal(a.breaker.override, undefined);
  });

  test('a breaker built after start gets the override in force at once', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    await a.control.start();
    const { command } = await fleet.force('llm-primary', 'open', { actor: 'op', reason: 'gpu swap' });
    await sleep(200); // the replica has read the hash: it has no such breaker yet
    const llm = new Breaker({ name: 'llm-primary', registry: a.registry, logger: captureLogger() });
    breakers.push(llm);
    assert.equal(llm.state, 'open');
    // The replica reports its new breaker asynchronously; until that write lands no replica
    // lists `llm-primary`, and awaitApplied rightly has nothing to wait for.
    const deadline = Date.now() + 2_000;
    const lists = async () =>
      (await fleet.replicas()).some((r) => r.breakers.some((b) => b.name === 'llm-primary'));
    while (!(await lists()) && Date.now() < deadline) await sleep(20);
    const rollout = await fleet.awaitApplied('llm-primary', command.id, { timeoutMs: 1_000 });
    assert.deepEqual(
      rollout.applied.map((r) => r.replica),
      ['a'],
    );
  });

  test('a reset closes a breaker the failure rate opened, on a replica without any override', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    await a.control.start();
    const down = () => Promise.reject(new Error('down'));
    for (let i = 0; i < 3; i++) await assert.rejects(a.breaker.run(down));
    assert.equal(a.breaker.state, 'open');
    const { command, released } = await fleet.reset('kafka-producer');
    assert.equal(released, null);
    const rollout = await fleet.awaitApplied('kafka-producer', command.id, { timeoutMs: 1_000 });
    assert.equal(rollout.applied.length, 1);
    assert.equal(a.breaker.state, 'closed');
  });

  test('the report carries state and window counts; a stopped replica leaves the view at once', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    await a.control.start();
    await a.breaker.run(async () => 'ok');
    await sleep(300); // a heartbeat
    const [report] = await fleet.replicas();
    assert.equal(report?.app, 'test-app');
    assert.equal(report?.pid, process.pid);
    const reported = report?.breakers.find((b) => b.name === 'kafka-producer');
    assert.equal(reported?.state, 'closed');
    assert.equal(reported?.override, null);
    assert.equal(reported?.counts.successes, 1);
    await a.control.stop();
    assert.deepEqual(await fleet.replicas(), []);
  });

  test('a replica that stops reporting (a crash) leaves the view when its report expires', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    await a.control.start();
    // What a crashed replica leaves behind: its last report, expiring, and its index entry.
    const report = JSON.stringify({ ...a.control.snapshot(), replica: 'crashed' });
    await client.set(keys.replica('crashed'), report, 'PX', 300);
    await client.zadd(keys.replicas, Date.now() + 300, 'crashed');
    assert.deepEqual((await fleet.replicas()).map((r) => r.replica).sort(), ['a', 'crashed']);
    await sleep(400);
    assert.deepEqual(
      (await fleet.replicas()).map((r) => r.replica),
      ['a'],
    );
  });

  test('awaitApplied names the replicas that did not apply the command within the timeout', async () => {
    const keys = freshKeys();
    const fleet = new BreakerFleet(client, keys);
    const a = replica(keys, 'a');
    await a.control.start();
    // A replica that reports but does not follow the channel (a stuck process, until its TTL).
    const stuck = JSON.stringify({ ...a.control.snapshot(), replica: 'stuck' });
    await client.set(keys.replica('stuck'), stuck, 'PX', 5_000);
    await client.zadd(keys.replicas, Date.now() + 5_000, 'stuck');
    const { command } = await fleet.force('kafka-producer', 'open', { actor: 'op', reason: 'drill' });
    const rollout = await fleet.awaitApplied('kafka-producer', command.id, { timeoutMs: 300 });
    assert.deepEqual(
      rollout.applied.map((r) => r.replica),
      ['a'],
    );
    assert.deepEqual(
      rollout.pending.map((r) => r.replica),
      ['stuck'],
    );
    assert.ok(rollout.waitedMs >= 300);
  });
});
