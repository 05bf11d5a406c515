/**
 * A minimal worker process for the lifecycle tests (SIGTERM, SIGKILL, programmer error): the same
 * runtime pieces an app uses, with a handler whose behaviour the test picks through env.
 *
 *   MODE=sleep             each message: record "start", sleep SLEEP_MS, record "done"
 *   MODE=programmer-error  each message: record "start", then throw a TypeError
 *
 * Records go to EVENTS_FILE as JSON lines, so the test sees what happened even after a SIGKILL.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTopic } from '@fleet/contracts';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { createKafkaClient, FleetConsumer, FleetProducer, provisionTopics, subscribe } from '../src';
import { captureLogger } from '../src/testing';

const env = z
  .object({
    KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
    TOPIC: z.string(),
    GROUP: z.string(),
    EVENTS_FILE: z.string(),
    MODE: z.enum(['sleep', 'programmer-error']),
    SLEEP_MS: z.coerce.number().int().default(100),
  })
  .parse(process.env);

const record = (event: string, extra: object = {}) =>
  appendFileSync(env.EVENTS_FILE, `${JSON.stringify({ event, pid: process.pid, ...extra })}\n`);

async function main(): Promise<void> {
  const logger = captureLogger(process.env.FLEET_TEST_VERBOSE === '1');
  const registry = new Registry();
  const topic = defineTopic({
    name: env.TOPIC,
    schema: z.object({ id: z.string() }),
    description: 'lifecycle test messages',
    partitions: 1,
  });
  const kafka = createKafkaClient({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: 'fixture-worker',
    logger,
  });
  await provisionTopics(kafka, [topic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();
  const consumer = new FleetConsumer(kafka, {
    groupId: env.GROUP,
    producer,
    registry,
    logger,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    subscriptions: [
      subscribe(topic, async (value, context) => {
        record('start', { id: value.id, offset: context.offset });
        if (env.MODE === 'programmer-error') {
          const missing = undefined as unknown as { call(): void };
          missing.call(); // TypeError: a bug, not a condition
        }
        await sleep(env.SLEEP_MS);
        record('done', { id: value.id, offset: context.offset });
      }),
    ],
  });
  // The kafka lib's own contract under SIGTERM: stop() finishes the in-flight message and commits.
  // (Apps get the same through @fleet/service-kit, which builds on this lib, not the other way.)
  process.once('SIGTERM', () => {
    void (async () => {
      await consumer.stop();
      await producer.disconnect();
      record('stopped');
      process.exit(0);
    })();
  });
  await consumer.start();
  record('ready');
}

main().catch((err: unknown) => {
  record('boot-failed', { error: String(err) });
  process.exit(1);
});
