import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defineTopic } from '@fleet/contracts';
import { listenForNotifications, sqlOf, type DataSource, type EntityManager } from '@fleet/db';
import { captureLogger, createTestSchema, type TestSchema } from '@fleet/db/testing';
import { z } from 'zod';
import {
  enqueue,
  enqueueAll,
  OUTBOX_MIGRATIONS,
  OUTBOX_NOTIFY_CHANNEL,
  OutboxError,
  OutboxStore,
  prepareOutboxRow,
  type ClaimedEvent,
  type OutboxRetryPolicy,
} from './index';
import { CLAIM_SQL } from './outbox-store';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

const topic = defineTopic({
  name: 'test.outbox.item.1',
  schema: z.object({ n: z.number().int() }),
  description: 'test',
});

const store = new OutboxStore();

/** Opens a transaction and keeps it open until `finish` is called: for concurrent-claim tests. */
async function openTx(dataSource: DataSource) {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  return {
    manager: runner.manager,
    async finish(commit = true) {
      if (commit) await runner.commitTransaction();
      else await runner.rollbackTransaction();
      await runner.release();
    },
  };
}

async function add(manager: EntityManager, key: string, n: number): Promise<string> {
  return enqueue(manager, topic, {
    aggregateType: 'item',
    aggregateKey: key,
    eventType: 'item.created',
    payload: { n },
  });
}

interface PlanNode {
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows a plan produced or threw away, over all its nodes and loops: its work, roughly. */
function rowsTouched(node: PlanNode): number {
  const own =
    (node['Actual Rows'] +
      (node['Rows Removed by Filter'] ?? 0) +
      (node['Rows Removed by Join Filter'] ?? 0)) *
    node['Actual Loops'];
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child), 0);
}

const ns = (events: ClaimedEvent[]) => events.map((e) => (JSON.parse(e.payload) as { n: number }).n);

describe('outbox store on a real PostgreSQL', () => {
  let db: TestSchema;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS] });
  });
  after(() => db.drop());
  beforeEach(() => db.dataSource.query('TRUNCATE outbox_events'));

  test('enqueue validates the payload: an invalid event fails the caller transaction, nothing is written', async () => {
    await db.dataSource.query('CREATE TABLE IF NOT EXISTS business (id int PRIMARY KEY)');
    await assert.rejects(
      db.dataSource.transaction(async (tx) => {
        await tx.query('INSERT INTO business (id) VALUES (1)');
        await enqueue(tx, topic, {
          aggregateType: 'item',
          aggregateKey: 'k',
          eventType: 'item.created',
          payload: { n: 'one' } as unknown as { n: number },
        });
      }),
      (error: unknown) =>
        error instanceof OutboxError && error.code === 'OUTBOX_PAYLOAD_INVALID' && /n: /.test(error.message),
    );
    const [{ count: business }] = await db.dataSource.query('SELECT count(*)::int AS count FROM business');
    const [{ count: events }] = await db.dataSource.query('SELECT count(*)::int AS count FROM outbox_events');
    assert.equal(business, 0, 'the business row rolled back with the invalid event');
    assert.equal(events, 0);
    await assert.rejects(
      enqueue(db.dataSource.manager, topic, {
        aggregateType: 'item',
        aggregateKey: '',
        eventType: 'x',
        payload: { n: 1 },
      }),
      (error: unknown) => error instanceof OutboxError && error.code === 'OUTBOX_EVENT_INVALID',
    );
  });

  test('enqueueAll writes prepared rows in one statement, in the order given (seq), all or none', async () => {
    const rows = [3, 1, 2].map((n) =>
      prepareOutboxRow(topic, {
        aggregateType: 'item',
        aggregateKey: `k${n}`,
        eventType: 'item.created',
        payload: { n },
      }),
    );
    const ids = await enqueueAll(db.dataSource.manager, rows);
    assert.deepEqual(
      ids,
      rows.map((r) => r.id),
    );
    const stored: Array<{ id: string; payload: { n: number }; headers: Record<string, string> }> =
      await db.dataSource.query('SELECT id, payload, headers FROM outbox_events ORDER BY seq');
    assert.deepEqual(
      stored.map((r) => r.payload.n),
      [3, 1, 2],
    );
    assert.deepEqual(
      stored.map((r) => r.id),
      ids,
    );
    assert.equal(stored[0]!.headers['x-event-type'], 'item.created');
    // A duplicate id fails the statement: none of its rows is written.
    const again = [
      prepareOutboxRow(topic, {
        aggregateType: 'item',
        aggregateKey: 'k4',
        eventType: 'item.created',
        payload: { n: 4 },
      }),
      rows[0]!,
    ];
    await assert.rejects(enqueueAll(db.dataSource.manager, again));
    const [{ count }] = await db.dataSource.query('SELECT count(*)::int AS count FROM outbox_events');
    assert.equal(count, 3);
    assert.deepEqual(await enqueueAll(db.dataSource.manager, []), []);
    assert.throws(
      () =>
        prepareOutboxRow(topic, {
          aggregateType: 'item',
          aggregateKey: 'k',
          eventType: 'item.created',
          payload: { n: 0.5 },
        }),
      (error: unknown) => error instanceof OutboxError && error.code === 'OUTBOX_PAYLOAD_INVALID',
    );
  });

  test('enqueue stores the active trace context and the event type in the headers', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const ctx = trace.setSpanContext(context.active(), {
        traceId,
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      });
      const id = await context.with(ctx, () =>
        db.dataSource.transaction((tx) =>
          enqueue(tx, topic, {
            aggregateType: 'item',
            aggregateKey: 'k',
            eventType: 'item.created',
            payload: { n: 1 },
            headers: { 'x-tenant': 't1' },
          }),
        ),
      );
      const [row] = await db.dataSource.query(
        'SELECT headers, aggregate_key, topic FROM outbox_events WHERE id = $1',
        [id],
      );
      assert.equal(row.headers.traceparent, `00-${traceId}-b7ad6b7169203331-01`);
      assert.equal(row.headers['x-event-type'], 'item.created');
      assert.equal(row.headers['x-tenant'], 't1');
      assert.equal(row.topic, topic.name);
    } finally {
      context.disable();
      propagation.disable();
    }
  });

  test('two pollers never hold the same key: the second skips it until the first commits', async () => {
    for (let n = 1; n <= 3; n++) await add(db.dataSource.manager, 'k', n);
    await add(db.dataSource.manager, 'other', 10);
    const first = await openTx(db.dataSource);
    const second = await openTx(db.dataSource);
    try {
      const a = await store.claim(sqlOf(first.manager), 2);
      assert.deepEqual(ns(a), [1, 2], 'batch limit cuts the key; rows in order');
      const b = await store.claim(sqlOf(second.manager), 10);
      assert.deepEqual(ns(b), [10], 'key k is held by the first poller, so its third row waits');
      await store.markPublished(
        sqlOf(first.manager),
        a.map((e) => e.id),
      );
      await first.finish();
      await second.finish();
      const third = await openTx(db.dataSource);
      assert.deepEqual(ns(await store.claim(sqlOf(third.manager), 10)), [3, 10]);
      await third.finish(false);
    } finally {
      await first.finish().catch(() => undefined);
      await second.finish().catch(() => undefined);
    }
  });

  test('when the oldest keys are held, a second poller takes its batch from the keys after them', async () => {
    for (let n = 1; n <= 6; n++) await add(db.dataSource.manager, `key-${n}`, n);
    const first = await openTx(db.dataSource);
    const second = await openTx(db.dataSource);
    try {
      assert.deepEqual(ns(await store.claim(sqlOf(first.manager), 2)), [1, 2]);
      assert.deepEqual(ns(await store.claim(sqlOf(second.manager), 2)), [3, 4], 'not an empty batch');
      const third = await openTx(db.dataSource);
      assert.deepEqual(
        ns(await store.claim(sqlOf(third.manager), 2, 3)),
        [],
        'keys past the scan limit are not looked at',
      );
      await third.finish(false);
    } finally {
      await first.finish(false);
      await second.finish(false);
    }
  });

  test('a row whose transaction commits late is still published (no high-water mark)', async () => {
    const slow = await openTx(db.dataSource);
    await add(slow.manager, 'slow', 1); // lower seq, not yet visible
    await add(db.dataSource.manager, 'fast', 2); // higher seq, committed first
    let poll = await openTx(db.dataSource);
    const firstPoll = await store.claim(sqlOf(poll.manager), 10);
    assert.deepEqual(ns(firstPoll), [2]);
    await store.markPublished(
      sqlOf(poll.manager),
      firstPoll.map((e) => e.id),
    );
    await poll.finish();
    await slow.finish();
    poll = await openTx(db.dataSource);
    assert.deepEqual(
      ns(await store.claim(sqlOf(poll.manager), 10)),
      [1],
      'the late row is found on the next poll',
    );
    await poll.finish(false);
  });

  test('a rejected row waits out its backoff, holds back its key but not other keys, then parks; replay brings it back', async () => {
    const policy: OutboxRetryPolicy = { maxAttempts: 2, initialBackoffMs: 300, maxBackoffMs: 1000 };
    await add(db.dataSource.manager, 'k', 1);
    await add(db.dataSource.manager, 'k', 2);
    await add(db.dataSource.manager, 'j', 3);
    let tx = await openTx(db.dataSource);
    let claimed = await store.claim(sqlOf(tx.manager), 10);
    const head = claimed.find((e) => e.aggregateKey === 'k')!;
    assert.deepEqual(await store.recordRejection(sqlOf(tx.manager), head, 'MESSAGE_TOO_LARGE', policy), {
      parked: false,
      attempts: 1,
    });
    await tx.finish();

    tx = await openTx(db.dataSource);
    assert.deepEqual(
      ns(await store.claim(sqlOf(tx.manager), 10)),
      [3],
      'k waits behind its head row; j flows',
    );
    await tx.finish(false);

    await sleep(400);
    tx = await openTx(db.dataSource);
    claimed = await store.claim(sqlOf(tx.manager), 10);
    assert.deepEqual(ns(claimed), [1, 2, 3], 'after the backoff the head row comes first again');
    assert.deepEqual(
      await store.recordRejection(sqlOf(tx.manager), claimed[0], 'MESSAGE_TOO_LARGE', policy),
      {
        parked: true,
        attempts: 2,
      },
    );
    await tx.finish();

    const stats = await store.stats(sqlOf(db.dataSource.manager));
    assert.equal(stats.parked, 1);
    assert.equal(stats.pending, 2);
    const [parked] = await store.listParked(sqlOf(db.dataSource.manager));
    assert.equal(parked.lastError, 'MESSAGE_TOO_LARGE');
    assert.equal(parked.attempts, 2);

    tx = await openTx(db.dataSource);
    assert.deepEqual(ns(await store.claim(sqlOf(tx.manager), 10)), [2, 3], 'a parked row holds nothing back');
    await tx.finish(false);

    assert.deepEqual(await store.replayParked(sqlOf(db.dataSource.manager)), [parked.id]);
    assert.equal((await store.stats(sqlOf(db.dataSource.manager))).parked, 0);
  });

  test("a claim's work stays proportional to its batch, not to the backlog, even with a generic plan", async () => {
    // The poller prepares the claim once; PostgreSQL may settle on a generic plan made while the
    // table was empty. That plan must still reach the claimed rows by key, not by re-scanning
    // every pending row for each of them (which made a claim quadratic in the backlog).
    await db.dataSource.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload)
       SELECT gen_random_uuid(), 'item', 'key-' || (i % 50), 'item.created', 'test.outbox.item.1',
              jsonb_build_object('n', i)
         FROM generate_series(1, 3000) AS i`,
    );
    const tx = await openTx(db.dataSource);
    try {
      await tx.manager.query('SET LOCAL plan_cache_mode = force_generic_plan');
      await tx.manager.query(`PREPARE generic_claim(int, int, int) AS ${CLAIM_SQL}`);
      const [{ 'QUERY PLAN': plan }] = (await tx.manager.query(
        'EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_claim(100, 2828, 400)',
      )) as [{ 'QUERY PLAN': [{ Plan: PlanNode }] }];
      const work = rowsTouched(plan[0].Plan);
      assert.ok(work < 20 * 500, `the claim touched ${work} rows for a batch of 100 (scan limit 400)`);
      await tx.manager.query('DEALLOCATE generic_claim');
    } finally {
      await tx.finish(false);
    }
  });

  test('stats count pending rows and the age of the oldest; published rows can be purged', async () => {
    await add(db.dataSource.manager, 'a', 1);
    await db.dataSource.query(`UPDATE outbox_events SET created_at = now() - interval '90 seconds'`);
    await add(db.dataSource.manager, 'a', 2);
    const stats = await store.stats(sqlOf(db.dataSource.manager));
    assert.equal(stats.pending, 2);
    assert.ok(
      stats.oldestPendingAgeSeconds >= 89 && stats.oldestPendingAgeSeconds < 120,
      `${stats.oldestPendingAgeSeconds}`,
    );
    const tx = await openTx(db.dataSource);
    await store.markPublished(
      sqlOf(tx.manager),
      (await store.claim(sqlOf(tx.manager), 10)).map((e) => e.id),
    );
    await tx.finish();
    assert.equal((await store.stats(sqlOf(db.dataSource.manager))).pending, 0);
    await db.dataSource.query(`UPDATE outbox_events SET published_at = now() - interval '2 hours'`);
    assert.equal(await store.purgePublished(sqlOf(db.dataSource.manager), 3_600_000), 2);
  });

  test('committing an insert notifies listeners with the schema; a rolled-back one does not', async () => {
    const payloads: string[] = [];
    let ready: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (ready = resolve));
    const listener = listenForNotifications({
      url: DATABASE_URL,
      channel: OUTBOX_NOTIFY_CHANNEL,
      onNotify: (payload) => payload === db.schema && payloads.push(payload),
      onConnected: () => ready(),
      logger: captureLogger(),
    });
    try {
      await connected;
      const rolledBack = await openTx(db.dataSource);
      await add(rolledBack.manager, 'n', 1);
      await rolledBack.finish(false);
      await sleep(200);
      assert.equal(payloads.length, 0);
      await db.dataSource.transaction(async (tx) => {
        await add(tx, 'n', 2);
        await add(tx, 'n', 3);
      });
      const deadline = Date.now() + 5000;
      while (payloads.length === 0 && Date.now() < deadline) await sleep(20);
      await sleep(200);
      assert.deepEqual(payloads, [db.schema], 'one notification per committed transaction');
    } finally {
      await listener.close();
    }
  });
});
