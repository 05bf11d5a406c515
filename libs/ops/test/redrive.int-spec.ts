import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NonRetriableError } from '@fleet/kafka';
import { startTracing, type TracingHandle } from '@fleet/observability';
import { waitFor } from '@fleet/kafka/testing';
import { AuditLog, DeadLetterStore, EventLifeQuery } from '../src';
import { opsHarness, type Item, type OpsHarness } from './harness';

const harnesses: OpsHarness[] = [];
let tracing: TracingHandle;
before(() => {
  tracing = startTracing({
    serviceName: `ops-test-${randomUUID().slice(0, 8)}`,
    otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
  });
});
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  await tracing.shutdown();
});
async function setUp(purpose: string, options?: Parameters<typeof opsHarness>[1]) {
  const h = await opsHarness(purpose, options);
  harnesses.push(h);
  return h;
}

const deadCount = async (h: OpsHarness, status: string) =>
  Number(
    (
      await h.sql.rows<{ n: string }>(
        `SELECT count(*) AS n FROM ops_dead_letters WHERE topic = $1 AND status = $2`,
        [h.topic.name, status],
      )
    )[0]!.n,
  );

describe('dead-letter redrive on the real broker and database', () => {
  test('two groups on one topic: the redrive reaches only the group that failed it, which handles it once', async () => {
    const h = await setUp('two-groups');
    const seenA: string[] = [];
    const seenB: string[] = [];
    let fixed = false;
    const a = await h.group('a', async (_v, ctx) => void seenA.push(ctx.eventId!));
    const b = await h.group('b', async (v, ctx) => {
      if (!fixed && v.seq === 2) throw new NonRetriableError(`cannot handle seq ${v.seq}`, 'POISON');
      seenB.push(ctx.eventId!);
    });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await h.producer.send(
      h.topic,
      ids.map((eventId, i) => ({ key: 'k', value: { key: 'k', seq: i + 1 }, eventId })),
    );
    const store = new DeadLetterStore(h.sql);
    await waitFor(
      'the poison message indexed',
      async () => (await store.list({ topic: h.topic.name })).total === 1,
    );
    await waitFor('both groups past the topic', () => seenA.length === 3 && seenB.length === 2);
    const [dead] = (await store.list({ topic: h.topic.name, group: b.groupId })).items;
    assert.equal(dead!.eventId, ids[1]);
    assert.equal(dead!.reason, 'NON_RETRIABLE');
    assert.equal(dead!.errorCode, 'POISON');
    assert.equal(dead!.consumerGroup, b.groupId);
    assert.ok(dead!.traceId, 'the dead letter keeps its traceparent');

    fixed = true;
    const { redrive, done } = await h.redriver.start({ ids: [dead!.id] }, 'alice');
    assert.equal(redrive.matched, 1);
    assert.equal((await done).status, 'COMPLETED');
    await waitFor('group b to handle the redriven message', () => seenB.length === 3);
    await sleep(2_000); // time for a duplicate or a stray delivery to show up
    assert.deepEqual(seenB, [ids[0], ids[2], ids[1]]);
    assert.deepEqual(seenA, ids, 'the other group sees nothing new');
    assert.equal((await store.get(dead!.id))!.status, 'REDRIVEN');

    // A second redrive of the same record has no effect.
    const again = await h.redriver.start({ ids: [dead!.id] }, 'alice');
    assert.equal(again.redrive.matched, 0);
    assert.equal(again.redrive.skipped, 1);
    await again.done;
    await sleep(1_000);
    assert.equal(seenB.length, 3);

    // The event's life, step by step.
    const life = await new EventLifeQuery({
      sql: h.sql,
      kafka: h.kafka,
      jaegerUiUrl: 'http://127.0.0.1:16686',
    }).find(ids[1]!);
    assert.ok(life);
    const kinds = life.steps.map((s) => `${s.kind}${s.group ? `@${s.group === a.groupId ? 'a' : 'b'}` : ''}`);
    assert.deepEqual([...kinds].sort(), [
      'dead-lettered@b',
      'handled@a',
      'handled@b',
      'kafka.written',
      'redriven@b',
    ]);
    assert.ok(kinds.indexOf('kafka.written') < kinds.indexOf('dead-lettered@b'));
    assert.ok(kinds.indexOf('dead-lettered@b') < kinds.indexOf('redriven@b'));
    assert.ok(kinds.indexOf('redriven@b') < kinds.indexOf('handled@b'));
    assert.deepEqual(
      life.groups.map((g) => [g.group === a.groupId ? 'a' : 'b', g.outcome, g.redrives]),
      [
        ['a', 'handled', 0],
        ['b', 'handled', 1],
      ],
    );
    assert.equal(life.jaegerUrl, `http://127.0.0.1:16686/trace/${life.traceId}`);
  });

  test('bulk: 1,000 dead letters over 50 keys, dry run first, each handled once in key order, audited', async () => {
    const h = await setUp('bulk', { partitions: 6 });
    let fixed = false;
    const handled: Item[] = [];
    const g = await h.group('bulk', async (v) => {
      if (!fixed) throw new NonRetriableError('rejected', 'DOWNSTREAM_REJECTED');
      handled.push(v);
    });
    const messages = Array.from({ length: 1_000 }, (_, i) => {
      const key = `key-${i % 50}`;
      return { key, value: { key, seq: Math.floor(i / 50) }, eventId: randomUUID() };
    });
    for (let i = 0; i < messages.length; i += 200) await h.producer.send(h.topic, messages.slice(i, i + 200));
    // A dead letter of another reason, which the filter leaves out.
    const store = new DeadLetterStore(h.sql);
    await waitFor(
      '1,000 dead letters indexed',
      async () => (await store.list({ topic: h.topic.name })).total === 1_000,
      60_000,
    );
    const filter = {
      topic: h.topic.name,
      group: g.groupId,
      reason: 'NON_RETRIABLE' as const,
      errorCode: 'DOWNSTREAM_REJECTED',
    };
    const preview = await h.redriver.preview({ filter }, 'bob');
    assert.equal(preview.matched, 1_000);
    assert.deepEqual(preview.byGroup, { [g.groupId]: 1_000 });

    fixed = true;
    const started = Date.now();
    const { redrive, done } = await h.redriver.start({ filter }, 'bob', 2_000);
    assert.equal(redrive.matched, 1_000, 'the dry run said the same count');
    const finished = await done;
    assert.equal(finished.status, 'COMPLETED');
    assert.equal(finished.redriven, 1_000);
    assert.ok(Date.now() - started >= 450, 'paced at 2,000/s: 1,000 take at least half a second');
    await waitFor('every redriven message handled', () => handled.length >= 1_000, 60_000);
    await sleep(2_000);
    assert.equal(handled.length, 1_000, 'each handled once');
    const byKey = new Map<string, number[]>();
    for (const v of handled) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v.seq]);
    assert.equal(byKey.size, 50);
    for (const [key, seqs] of byKey) {
      assert.deepEqual(
        seqs,
        Array.from({ length: 20 }, (_, i) => i),
        `order of ${key}`,
      );
    }
    const audit = await new AuditLog(h.sql).latest({ action: 'dlq.redrive' });
    const real = audit.find((r) => r.target === redrive.id);
    assert.equal(real?.actor, 'bob');
    assert.equal(real?.count, 1_000);
    assert.deepEqual(real?.filter, filter);
    assert.ok(audit.some((r) => r.dryRun && r.count === 1_000));
    assert.equal(await deadCount(h, 'REDRIVEN'), 1_000);

    // A filter that matches nothing redrives nothing.
    const none = await h.redriver.start({ filter: { ...filter, key: 'no-such-key' } }, 'bob');
    assert.equal(none.redrive.matched, 0);
    assert.equal((await none.done).redriven, 0);
  });

  test('a message that always fails is redriven up to the cap, then parked: no loop', async () => {
    const h = await setUp('cap', { partitions: 1, redriveCap: 3 });
    let deliveries = 0;
    const g = await h.group('always', async () => {
      deliveries++;
      throw new NonRetriableError('this message always fails', 'ALWAYS');
    });
    const eventId = randomUUID();
    await h.producer.send(h.topic, [{ key: 'k', value: { key: 'k', seq: 1 }, eventId }]);
    const store = new DeadLetterStore(h.sql);
    const arrivals = async () => (await store.list({ topic: h.topic.name })).total;
    await waitFor('the first dead letter', async () => (await arrivals()) === 1);
    // An operator (or a cron job) redriving everything of the topic, again and again.
    let redriven = 0;
    for (let round = 0; round < 6; round++) {
      const { done } = await h.redriver.start({ filter: { topic: h.topic.name, group: g.groupId } }, 'cron');
      const r = await done;
      redriven += r.redriven;
      if (r.redriven > 0)
        await waitFor(`dead letter ${round + 2}`, async () => (await arrivals()) === round + 2);
      else await sleep(500);
    }
    await sleep(1_500);
    assert.equal(redriven, 3, 'redriven three times: the cap');
    assert.equal(await arrivals(), 4, 'four DLQ arrivals: the first and one per redrive');
    assert.equal(deliveries, 4);
    const all = (await store.list({ topic: h.topic.name })).items;
    assert.deepEqual(all.map((d) => [d.redriveCount, d.status]).sort(), [
      [0, 'REDRIVEN'],
      [1, 'REDRIVEN'],
      [2, 'REDRIVEN'],
      [3, 'PARKED'],
    ]);
    const life = await new EventLifeQuery({ sql: h.sql, kafka: h.kafka }).find(eventId);
    assert.equal(life?.groups[0]?.outcome, 'parked');
    assert.equal(life?.groups[0]?.redrives, 3);
  });

  test('unknown event id: no life', async () => {
    const h = await setUp('unknown', { partitions: 1 });
    assert.equal(await new EventLifeQuery({ sql: h.sql, kafka: h.kafka }).find(randomUUID()), undefined);
    assert.equal(await new EventLifeQuery({ sql: h.sql, kafka: h.kafka }).find('not-a-uuid'), undefined);
  });
});
