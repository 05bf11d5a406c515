/**
 * Benchmark (not a test): how fast the outbox poller drains a backlog, against the raw producer.
 *
 *   npm run bench:outbox            (servers from tools/infra; ROWS=200000 BATCH=100 by default,
 *                                    CONCURRENCY=n overrides the poller's OUTBOX_CONCURRENCY)
 *
 * In one run, on the same broker and with the same payloads:
 *  1. raw kafkajs: an idempotent producer (acks=all, one request in flight: the poller's settings)
 *     sends ROWS records in sendBatch calls of BATCH, one after another;
 *  2. outbox: ROWS rows prefilled in a fresh schema, then the bundled outbox-poller app (default
 *     config, batch BATCH) is started and timed until no row is left unpublished.
 * Prints both rates and their ratio (goal ≥ 0.35, stretch 0.5).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { PollerProcess, setupPollerTest } from '../../apps/outbox-poller/test/harness';

const ROWS = Number(process.env.ROWS ?? 200_000);
const BATCH = Number(process.env.BATCH ?? 100);
const KEYS = 1_000;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const payload = (i: number) =>
  JSON.stringify({ uid: `u-${i}`, key: `key-${i % KEYS}`, n: Math.floor(i / KEYS) });

async function rawProduce(topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < ROWS; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(i + BATCH, ROWS); j++) {
      // The same headers the poller sends: event id, event type.
      messages.push({
        key: `key-${j % KEYS}`,
        value: payload(j),
        headers: { 'x-event-id': randomUUID(), 'x-event-type': 'item.created' },
      });
    }
    await producer.sendBatch({
      acks: -1,
      timeout: 30_000,
      compression: CompressionTypes.None,
      topicMessages: [{ topic, messages }],
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  return ROWS / seconds;
}

async function outboxDrain(): Promise<{ rate: number; seconds: number }> {
  const t = await setupPollerTest('bench', 6);
  try {
    const fill = performance.now();
    await t.db.dataSource.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, headers)
       SELECT gen_random_uuid(), 'item', 'key-' || (i % $2), 'item.created', $3,
              jsonb_build_object('uid', 'u-' || i, 'key', 'key-' || (i % $2), 'n', i / $2),
              '{"x-event-type":"item.created"}'::jsonb
         FROM generate_series(0, $1 - 1) AS i`,
      [ROWS, KEYS, t.topic.name],
    );
    await t.db.dataSource.query('ANALYZE outbox_events');
    console.log(`prefilled ${ROWS} outbox rows in ${((performance.now() - fill) / 1000).toFixed(1)} s`);
    const poller = await PollerProcess.start(t.db.schema, {
      OUTBOX_BATCH_SIZE: String(BATCH),
      LOG_LEVEL: 'warn',
      // The app's default unless asked otherwise (CONCURRENCY=1 shows a single loop).
      ...(process.env.CONCURRENCY ? { OUTBOX_CONCURRENCY: process.env.CONCURRENCY } : {}),
      ...(process.env.NOTIFY ? { OUTBOX_NOTIFY_REDIS: process.env.NOTIFY } : {}),
    });
    const started = performance.now();
    try {
      for (;;) {
        // EXISTS rides the pending index; a count(*) here would compete with the poller for CPU.
        const [{ pending }] = await t.db.dataSource.query(
          'SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL) AS pending',
        );
        if (!pending) break;
        await sleep(100);
      }
    } finally {
      await poller.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    return { rate: ROWS / seconds, seconds };
  } finally {
    await t.close();
  }
}

async function main(): Promise<void> {
  const raw = await setupPollerTest('bench-raw', 6);
  await raw.close();
  // Raw runs before and after the drain: on a shared 2-core machine one run alone is noisy.
  console.log(`raw kafkajs: ${ROWS} records in batches of ${BATCH} …`);
  const rawBefore = await rawProduce(raw.topic.name);
  console.log(`outbox: draining ${ROWS} rows with the outbox-poller app, batch ${BATCH} …`);
  const outbox = await outboxDrain();
  console.log(`raw kafkajs again …`);
  const rawAfter = await rawProduce(raw.topic.name);
  const rawRate = (rawBefore + rawAfter) / 2;
  const cpu = execFileSync('nproc').toString().trim();
  console.log('');
  console.log(
    `raw kafkajs produce   ${rawRate.toFixed(0).padStart(8)} records/s   (before ${rawBefore.toFixed(0)}, after ${rawAfter.toFixed(0)})`,
  );
  console.log(
    `outbox drain          ${outbox.rate.toFixed(0).padStart(8)} rows/s      (${outbox.seconds.toFixed(1)} s for ${ROWS})`,
  );
  console.log(
    `ratio outbox/raw      ${(outbox.rate / rawRate).toFixed(2).padStart(8)}             (goal ≥ 0.35, stretch 0.5; ${cpu} cores)`,
  );
  process.exit(0);
}

void main();
