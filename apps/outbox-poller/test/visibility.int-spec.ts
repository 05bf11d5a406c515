import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordTopic } from '@fleet/kafka/testing';
import { enqueue } from '@fleet/outbox';
import { inspect, PollerProcess, setupPollerTest, writeEvent } from './harness';

const WRITERS = 20;
const EVENTS_PER_WRITER = 40;
const KEYS_PER_WRITER = 3;

/**
 * 20 writers, each the only writer of its own keys (so a key's order is well defined), commit
 * events with random delays while holding their transactions open: sequence values become visible
 * out of order all the time. Some transactions roll back. Every committed event must reach the
 * topic exactly once, none of the rolled-back ones, and each key in order.
 */
for (const pollers of [1, 2]) {
  describe(`late-visible rows with ${pollers} poller${pollers > 1 ? 's' : ''}`, () => {
    test(`every committed row is published exactly once, in order per key`, async () => {
      const t = await setupPollerTest(`visibility-${pollers}`);
      const recording = await recordTopic(t.kafka, t.topic.name);
      const processes = await Promise.all(
        Array.from({ length: pollers }, () => PollerProcess.start(t.db.schema, { OUTBOX_BATCH_SIZE: '25' })),
      );
      try {
        const committed = new Set<string>();
        const rolledBack = new Set<string>();
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const counters = new Map<string, number>();
            for (let i = 0; i < EVENTS_PER_WRITER; i++) {
              const key = `w${w}-k${i % KEYS_PER_WRITER}`;
              const n = counters.get(key) ?? 0;
              // One in ten holds its transaction open long enough for many later commits to overtake it.
              const hold = randomInt(10) === 0 ? randomInt(200, 800) : randomInt(0, 30);
              if (randomInt(15) === 0) {
                await t.db.dataSource
                  .transaction(async (tx) => {
                    rolledBack.add(
                      await enqueue(tx, t.topic, {
                        aggregateType: 'item',
                        aggregateKey: key,
                        eventType: 'item.created',
                        payload: { uid: randomUUID(), key, n: 9999 },
                      }),
                    );
                    await sleep(hold);
                    throw new Error('rolled back on purpose');
                  })
                  .catch(() => undefined);
                continue;
              }
              committed.add(await writeEvent(t.db.dataSource, t.topic, { uid: randomUUID(), key, n }, hold));
              counters.set(key, n + 1);
            }
          }),
        );
        await recording.until(
          `${committed.size} distinct events on the topic`,
          () => inspect(recording.messages).distinct >= committed.size,
          60_000,
        );
        await sleep(1_000); // let a stray duplicate show up if there is one
        const report = inspect(recording.messages);
        const published = new Set(report.byEventId.keys());
        console.log(
          `${pollers} poller(s): ${committed.size} committed, ${rolledBack.size} rolled back, ` +
            `${recording.messages.length} records, ${report.duplicates} duplicates`,
        );
        assert.deepEqual(
          [...committed].filter((id) => !published.has(id)),
          [],
          'every committed event published',
        );
        assert.deepEqual(
          [...published].filter((id) => !committed.has(id)),
          [],
          'nothing else published',
        );
        assert.equal(report.duplicates, 0, 'published exactly once');
        assert.deepEqual(report.orderViolations, [], 'per-key order');
        const [{ pending }] = await t.db.dataSource.query(
          'SELECT count(*)::int AS pending FROM outbox_events WHERE published_at IS NULL',
        );
        assert.equal(pending, 0);
      } finally {
        await Promise.all(processes.map((p) => p.stop()));
        await recording.stop();
        await t.close();
      }
    });
  });
}
