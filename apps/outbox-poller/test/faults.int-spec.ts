import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordTopic, waitFor } from '@fleet/kafka/testing';
import { enqueue } from '@fleet/outbox';
import { infra } from './faults';
import { inspect, PollerProcess, setupPollerTest, type Item, type PollerTest } from './harness';

// These tests stop and kill the shared local servers: the integration tier runs files one at a
// time, and every test brings the servers back up in `finally`.
after(async () => {
  await infra.up('kafka');
  await infra.up('postgres');
});

const FAULT_ENV = { KAFKA_SEND_TIMEOUT_MS: '5000', KAFKA_SEND_RETRIES: '2', KAFKA_BREAKER_RESET_MS: '2000' };

/** Writes `total` events over `keys` keys in transactions of `perTx`, by `writers` concurrent writers. */
async function writeLoad(
  t: PollerTest,
  {
    total,
    keys,
    perTx,
    writers,
    paceMs,
    onProgress,
    keyPrefix = 'w',
  }: {
    total: number;
    keys: number;
    perTx: number;
    writers: number;
    paceMs: number;
    onProgress?: (committed: number) => void;
    /** Keys are `<prefix><writer>-k<i>`; `n` counts up from 0 per key within one call. */
    keyPrefix?: string;
  },
): Promise<Set<string>> {
  const committed = new Set<string>();
  const perWriter = total / writers;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const counters = new Map<string, number>();
      for (let i = 0; i < perWriter; i += perTx) {
        const items: Item[] = [];
        for (let j = i; j < i + perTx; j++) {
          const key = `${keyPrefix}${w}-k${j % (keys / writers)}`;
          const n = counters.get(key) ?? 0;
          counters.set(key, n + 1);
          items.push({ uid: randomUUID(), key, n });
        }
        const ids = await t.db.dataSource.transaction(async (tx) => {
          const written: string[] = [];
          for (const item of items) {
            written.push(
              await enqueue(tx, t.topic, {
                aggregateType: 'item',
                aggregateKey: item.key,
                eventType: 'item.created',
                payload: item,
              }),
            );
          }
          return written;
        });
        for (const id of ids) committed.add(id);
        onProgress?.(committed.size);
        if (paceMs > 0) await sleep(paceMs);
      }
    }),
  );
  return committed;
}

describe('outbox-poller under faults (real broker and PostgreSQL)', () => {
  test('10,000 events while the broker is SIGKILLed twice and the poller once: all arrive, in order per key', async () => {
    const t = await setupPollerTest('faults', 6);
    const recording = await recordTopic(t.kafka, t.topic.name);
    let poller = await PollerProcess.start(t.db.schema, FAULT_ENV);
    const kills = { broker: 0, poller: 0 };
    try {
      const triggers = [
        {
          at: 1_500,
          done: false,
          run: async () => {
            await infra.killBroker();
            kills.broker++;
            await sleep(2_000);
            await infra.up('kafka');
          },
        },
        {
          at: 5_000,
          done: false,
          run: async () => {
            await poller.stop('SIGKILL');
            kills.poller++;
            poller = await PollerProcess.start(t.db.schema, FAULT_ENV);
          },
        },
        {
          at: 7_500,
          done: false,
          run: async () => {
            await infra.killBroker();
            kills.broker++;
            await sleep(2_000);
            await infra.up('kafka');
          },
        },
      ];
      // Faults fire as the writing passes each mark and run one after another, never overlapping.
      let faults = Promise.resolve();
      const started = Date.now();
      const committed = await writeLoad(t, {
        total: 10_000,
        keys: 100,
        perTx: 10,
        writers: 4,
        paceMs: 8,
        onProgress: (count) => {
          for (const trigger of triggers) {
            if (!trigger.done && count >= trigger.at) {
              trigger.done = true;
              faults = faults.then(trigger.run);
            }
          }
        },
      });
      await faults;
      await recording.until(
        '10,000 distinct events on the topic',
        () => inspect(recording.messages).distinct >= 10_000,
        240_000,
      );
      await sleep(2_000);
      const report = inspect(recording.messages);
      console.log(
        `faults: ${committed.size} events written, ${recording.messages.length} records on the topic, ` +
          `${report.distinct} distinct, ${report.duplicates} duplicates, broker SIGKILLs ${kills.broker}, ` +
          `poller SIGKILLs ${kills.poller}, ${Math.round((Date.now() - started) / 1000)} s`,
      );
      assert.equal(kills.broker, 2);
      assert.equal(kills.poller, 1);
      assert.equal(committed.size, 10_000);
      assert.deepEqual(
        [...committed].filter((id) => !report.byEventId.has(id)),
        [],
        'all 10,000 events on the topic',
      );
      assert.equal(report.distinct, 10_000);
      assert.equal(report.idMismatches, 0, 'each duplicate carries the event id of its original');
      assert.deepEqual(report.orderViolations, [], 'per-key order (first copy of each event)');
    } finally {
      await poller.stop();
      await infra.up('kafka');
      await recording.stop();
      await t.close();
    }
  });

  test('broker stopped → the breaker opens, the backlog waits in the outbox; broker back → half-open → closed → drained', async () => {
    const t = await setupPollerTest('breaker', 3);
    const recording = await recordTopic(t.kafka, t.topic.name);
    const poller = await PollerProcess.start(t.db.schema, FAULT_ENV);
    try {
      await poller.waitForHealth('/health/ready');
      const stoppedAt = Date.now();
      await infra.down('kafka');
      // Writes keep the poller sending, which is what makes the breaker count failures.
      const committed = await writeLoad(t, { total: 300, keys: 30, perTx: 10, writers: 3, paceMs: 100 });
      await waitFor(
        'breaker open',
        async () => (await poller.metric('circuit_breaker_state', { breaker: 'kafka-producer' })) === 2,
        60_000,
      );
      const openAfterMs = Date.now() - stoppedAt;
      await waitFor(
        'backlog of 300 in the metric',
        async () => (await poller.metric('outbox_pending_events')) === 300,
        30_000,
      );
      assert.equal(recording.messages.length, 0);
      const failures = await poller.metric('outbox_publish_failures_total', { kind: 'unavailable' });

      const restartedAt = Date.now();
      await infra.up('kafka');
      await recording.until(
        '300 events after the broker came back',
        () => inspect(recording.messages).distinct >= 300,
        120_000,
      );
      const drainedAfterMs = Date.now() - restartedAt;
      await waitFor('pending 0', async () => (await poller.metric('outbox_pending_events')) === 0, 30_000);
      assert.equal(
        await poller.metric('circuit_breaker_state', { breaker: 'kafka-producer' }),
        0,
        'closed again',
      );
      assert.ok(
        (await poller.metric('circuit_breaker_transitions_total', {
          breaker: 'kafka-producer',
          to: 'half-open',
        }))! >= 1,
      );
      assert.ok(
        (await poller.metric('circuit_breaker_transitions_total', {
          breaker: 'kafka-producer',
          to: 'closed',
        }))! >= 1,
      );
      const report = inspect(recording.messages);
      assert.deepEqual(
        [...committed].filter((id) => !report.byEventId.has(id)),
        [],
      );
      assert.deepEqual(report.orderViolations, []);
      console.log(
        `breaker: open ${openAfterMs} ms after the broker stopped (${failures} failed sends); ` +
          `backlog 300 drained ${drainedAfterMs} ms after it was started again; ${report.duplicates} duplicates`,
      );
    } finally {
      await poller.stop();
      await infra.up('kafka');
      await recording.stop();
      await t.close();
    }
  });

  test('PostgreSQL crashes (immediate stop) while publishing → the poller reconnects and resumes, nothing lost', async () => {
    const t = await setupPollerTest('pgcrash', 3);
    const recording = await recordTopic(t.kafka, t.topic.name);
    let poller: PollerProcess | undefined;
    try {
      const before = await writeLoad(t, { total: 4_000, keys: 40, perTx: 50, writers: 2, paceMs: 0 });
      poller = await PollerProcess.start(t.db.schema, { ...FAULT_ENV, OUTBOX_BATCH_SIZE: '20' });
      await recording.until('publishing under way', () => recording.messages.length >= 300, 60_000);
      await infra.crashPostgres();
      const publishedAtCrash = inspect(recording.messages).distinct;
      await sleep(2_000);
      await infra.up('postgres');
      // The test's own pool lost its connections too; the first queries may still hit dead ones.
      await waitFor(
        'database back',
        () =>
          t.db.dataSource.query('SELECT 1').then(
            () => true,
            () => false,
          ),
        30_000,
      );
      const afterwards = await writeLoad(t, {
        total: 1_000,
        keys: 40,
        perTx: 50,
        writers: 2,
        paceMs: 0,
        keyPrefix: 'after',
      });
      await recording.until(
        '5,000 distinct events',
        () => inspect(recording.messages).distinct >= 5_000,
        120_000,
      );
      const report = inspect(recording.messages);
      assert.equal(poller.child.exitCode, null, 'the poller rode out the crash');
      assert.deepEqual(
        [...before, ...afterwards].filter((id) => !report.byEventId.has(id)),
        [],
      );
      assert.deepEqual(report.orderViolations, []);
      console.log(
        `postgres crash: ${publishedAtCrash} of 4000 published at the crash; all 5000 published after restart; ` +
          `${report.duplicates} duplicates`,
      );
    } finally {
      await infra.up('postgres');
      await poller?.stop();
      await recording.stop();
      await t.db.drop().catch(() => undefined);
    }
  });
});
