/**
 * Shows the local fleet working, three ways onto one smoke topic, each traced:
 *  1. straight through the Kafka runtime (producer → consumer);
 *  2. through the transactional outbox: a row written in a transaction, published by the running
 *     outbox-poller;
 *  3. through the Redis fallback list, as a producer does while the Kafka breaker is open, drained
 *     by the running redis-backfill.
 * Prints each round-trip time and its trace in Jaeger. Run by `tools/fleet up`; safe to run again.
 */
import { tracing } from './smoke-instrumentation';
import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { defineTopic } from '@fleet/contracts';
import { connectDataSource } from '@fleet/db';
import { createKafkaClient, FleetConsumer, FleetProducer, provisionTopics, subscribe } from '@fleet/kafka';
import { createLogger } from '@fleet/observability';
import { enqueue } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, FallbackQueue } from '@fleet/redis';
import { Registry } from 'prom-client';
import { z } from 'zod';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const brokers = env('KAFKA_BROKERS', '127.0.0.1:9092').split(',');
const jaeger = env('JAEGER_QUERY_URL', 'http://127.0.0.1:16686');
const smokeTopic = defineTopic({
  name: 'fleet.smoke.ping.1',
  schema: z.object({ id: z.string(), sentAt: z.number(), path: z.string() }),
  description: 'Round-trip check written by tools/fleet up; nothing consumes it in production.',
  partitions: 1,
});
const tracer = trace.getTracer('fleet-smoke');
const TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const logger = createLogger({ serviceName: 'fleet-smoke', level: 'warn' });
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers, clientId: 'fleet-smoke', logger });
  await provisionTopics(kafka, [smokeTopic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();

  const waiting = new Map<string, (traceparent: string | undefined) => void>();
  const consumer = new FleetConsumer(kafka, {
    groupId: `fleet-smoke-${randomUUID().slice(0, 8)}`,
    producer,
    registry,
    logger,
    subscriptions: [
      subscribe(smokeTopic, async (value, ctx) => waiting.get(value.id)?.(ctx.headers.traceparent)),
    ],
  });
  await consumer.start();

  /** Runs `send` inside a root span, waits for the message to come back, prints the result. */
  const roundTrip = async (
    path: string,
    via: string,
    send: (ping: z.infer<typeof smokeTopic.schema>) => Promise<void>,
  ) => {
    const ping = { id: randomUUID(), sentAt: Date.now(), path };
    const arrived = new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no ${path} round trip within ${TIMEOUT_MS / 1000} s: is ${via} running? (tools/fleet status)`,
            ),
          ),
        TIMEOUT_MS,
      );
      waiting.set(ping.id, (traceparent) => {
        clearTimeout(timer);
        resolve(traceparent);
      });
    });
    await tracer.startActiveSpan(`smoke ${path}`, async (span) => {
      try {
        await send(ping);
      } finally {
        span.end();
      }
    });
    const traceId = (await arrived)?.split('-')[1];
    console.log(
      `smoke: ${path.padEnd(8)} round trip via ${via} in ${Date.now() - ping.sentAt} ms` +
        (traceId ? `; trace ${jaeger}/api/traces/${traceId}` : ''),
    );
  };

  const dataSource = await connectDataSource({
    url: env('DATABASE_URL', 'postgres://fleet:fleet@127.0.0.1:5432/fleet'),
    applicationName: 'fleet-smoke',
    poolSize: 1,
    logger,
  });
  const redis = createRedisClient({
    url: env('REDIS_URL', 'redis://127.0.0.1:6379'),
    connectionName: 'fleet-smoke',
    logger,
  });
  try {
    await roundTrip('direct', 'the Kafka runtime', async (ping) => {
      await producer.send(smokeTopic, [{ key: 'smoke', value: ping, eventId: ping.id }]);
    });
    await roundTrip('outbox', 'outbox-poller', async (ping) => {
      await dataSource.transaction((tx) =>
        enqueue(tx, smokeTopic, {
          aggregateType: 'smoke',
          aggregateKey: 'smoke',
          eventType: 'smoke.ping',
          payload: ping,
          id: ping.id,
        }),
      );
    });
    await roundTrip('fallback', 'redis-backfill', async (ping) => {
      const headers: Record<string, string> = { 'x-event-id': ping.id };
      propagation.inject(context.active(), headers);
      await new FallbackQueue(redis).push(
        smokeTopic.name,
        [{ key: 'smoke', value: JSON.stringify(ping), headers }],
        'smoke check',
      );
    });
  } finally {
    await consumer.stop();
    await producer.disconnect();
    await dataSource.destroy();
    await closeRedisClient(redis);
    await tracing.shutdown();
  }
}

main().catch((error: unknown) => {
  console.error(`smoke: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
