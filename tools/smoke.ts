/**
 * Shows the local fleet working: provisions a smoke topic, sends one traced message through the
 * Kafka runtime, consumes it with a FleetConsumer, and prints the round-trip time and the trace
 * as Jaeger stores it. Run by `tools/fleet up`; safe to run again (fresh consumer group each time).
 */
import { tracing } from './smoke-instrumentation';
import { randomUUID } from 'node:crypto';
import { defineTopic } from '@fleet/contracts';
import { createKafkaClient, FleetConsumer, FleetProducer, provisionTopics, subscribe } from '@fleet/kafka';
import { createLogger } from '@fleet/observability';
import { Registry } from 'prom-client';
import { z } from 'zod';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const jaeger = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const smokeTopic = defineTopic({
  name: 'fleet.smoke.ping.1',
  schema: z.object({ id: z.string(), sentAt: z.number() }),
  description: 'Round-trip check written by tools/fleet up; nothing consumes it in production.',
  partitions: 1,
});

async function main(): Promise<void> {
  const logger = createLogger({ serviceName: 'fleet-smoke', level: 'warn' });
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers, clientId: 'fleet-smoke', logger });
  await provisionTopics(kafka, [smokeTopic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();
  const id = randomUUID();
  let received: (traceparent: string | undefined) => void = () => undefined;
  const arrived = new Promise<string | undefined>((resolve) => (received = resolve));
  const consumer = new FleetConsumer(kafka, {
    groupId: `fleet-smoke-${id.slice(0, 8)}`,
    producer,
    registry,
    logger,
    subscriptions: [
      subscribe(smokeTopic, async (value, context) => {
        if (value.id === id) received(context.headers.traceparent);
      }),
    ],
  });
  await consumer.start();
  const sentAt = Date.now();
  await producer.send(smokeTopic, [{ key: 'smoke', value: { id, sentAt }, eventId: id }]);
  const timeout = setTimeout(() => {
    console.error('smoke: no round trip within 30 s');
    process.exit(1);
  }, 30_000);
  const traceparent = await arrived;
  clearTimeout(timeout);
  const roundTripMs = Date.now() - sentAt;
  await consumer.stop();
  await producer.disconnect();
  await tracing.shutdown();
  const traceId = traceparent?.split('-')[1];
  console.log(`smoke: message round trip through Kafka (${smokeTopic.name}) in ${roundTripMs} ms`);
  if (traceId) console.log(`smoke: its trace (producer → consumer spans): ${jaeger}/api/traces/${traceId}`);
}

main().catch((error: unknown) => {
  console.error(`smoke: failed: ${String(error)}`);
  process.exit(1);
});
