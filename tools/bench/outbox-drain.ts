/**
 * Benchmark (not a test): how fast the outbox poller drains a backlog, against the raw producer.
 *
 *   npm run bench:outbox            (servers from tools/infra; ROWS=200000 BATCH=100 ROUNDS=3 by
 *                                    default, CONCURRENCY=n overrides the poller's OUTBOX_CONCURRENCY)
 *
 * In one run, on the same broker and with the same payloads, ROUNDS times over (median reported):
 *  1. raw kafkajs: an idempotent producer (acks=all, one request in flight: the poller's settings)
 *     sends ROWS records in sendBatch calls of BATCH, one after another;
 *  2. outbox: ROWS rows prefilled in a fresh schema, then the bundled outbox-poller app (default
 *     config, batch BATCH) is started and timed until no row is left unpublished.
 * Prints both rates and their ratio per round, and the median round (goal ≥ 0.35, stretch 0.5), and
 * where the CPU went: the poller, PostgreSQL and the broker, during each drain and raw run.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { PollerProcess, setupPollerTest } from '../../apps/outbox-poller/test/harness';
import { cpuByGroup, cpuSince } from './cpu';

const ROWS = Number(process.env.ROWS ?? 200_000);
const BATCH = Number(process.env.BATCH ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const KEYS = 1_000;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const payload = (i: number) =>
  JSON.stringify({ uid: `u-${i}`, key: `key-${i % KEYS}`, n: Math.floor(i / KEYS) });

const CPU_GROUPS = {
  poller: (c: string) => c.includes('outbox-poller/main.js'),
  postgres: (c: string) => c.startsWith('postgres'),
  kafka: (c: string) => c.includes('kafka.Kafka'),
};

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
  const cpu = cpuByGroup(CPU_GROUPS);
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
  console.log(`cpu during raw produce: ${cpuSince(CPU_GROUPS, cpu)} (and this process)`);
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
      OUTBOX_POLL_INTERVAL_MS: '500', // the app's default (the test harness polls faster)
      LOG_LEVEL: 'warn',
      // The app's default unless asked otherwise (CONCURRENCY=1 shows a single loop).
      ...(process.env.CONCURRENCY ? { OUTBOX_CONCURRENCY: process.env.CONCURRENCY } : {}),
      ...(process.env.NOTIFY ? { OUTBOX_NOTIFY_REDIS: process.env.NOTIFY } : {}),
    });
    const started = performance.now();
    const cpu = cpuByGroup(CPU_GROUPS);
    let seconds: number;
    try {
      for (;;) {
        // EXISTS rides the pending index; a count(*) here would compete with the poller for CPU.
        const [{ pending }] = await t.db.dataSource.query(
          'SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL) AS pending',
        );
        if (!pending) break;
        await sleep(100);
      }
      // Before the poller stops: its shutdown is not part of the drain.
      seconds = (performance.now() - started) / 1000;
      console.log(`cpu during the drain: ${cpuSince(CPU_GROUPS, cpu)}`);
    } finally {
      await poller.stop();
    }
    return { rate: ROWS / seconds, seconds };
  } finally {
    await t.close();
  }
}

async function main(): Promise<void> {
  const raw = await setupPollerTest('bench-raw', 6);
  await raw.close();
  const cores = execFileSync('nproc').toString().trim();
  // Rounds of raw, drain, raw: each drain is compared with the raw runs on either side of it,
  // and the median round is the figure (a 2-core machine shared with a broker, a database and
  // their background work is noisy; one run alone can be off by a fifth either way).
  console.log(`warming up: raw kafkajs, ${ROWS} records in batches of ${BATCH} …`);
  let rawBefore = await rawProduce(raw.topic.name);
  const rounds: { raw: number; drain: number; seconds: number; ratio: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(
      `round ${round}/${ROUNDS}: outbox drain of ${ROWS} rows (outbox-poller app, batch ${BATCH}), then raw kafkajs …`,
    );
    const outbox = await outboxDrain();
    const rawAfter = await rawProduce(raw.topic.name);
    const rawRate = (rawBefore + rawAfter) / 2;
    rounds.push({ raw: rawRate, drain: outbox.rate, seconds: outbox.seconds, ratio: outbox.rate / rawRate });
    rawBefore = rawAfter;
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  console.log('');
  console.log('round   raw kafkajs records/s   outbox drain rows/s   ratio');
  rounds.forEach((r, i) =>
    console.log(
      `${String(i + 1).padStart(5)}   ${r.raw.toFixed(0).padStart(21)}   ${r.drain.toFixed(0).padStart(19)}   ${r.ratio.toFixed(2).padStart(5)}`,
    ),
  );
  console.log('');
  console.log(`raw kafkajs produce   ${median.raw.toFixed(0).padStart(8)} records/s   (median round)`);
  console.log(
    `outbox drain          ${median.drain.toFixed(0).padStart(8)} rows/s      (${median.seconds.toFixed(1)} s for ${ROWS})`,
  );
  console.log(
    `ratio outbox/raw      ${median.ratio.toFixed(2).padStart(8)}             (goal ≥ 0.35, stretch 0.5; median of ${ROUNDS}; ${cores} cores)`,
  );
  process.exit(0);
}

void main();
