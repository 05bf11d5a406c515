import { defineTopic, type TopicContract } from '@fleet/contracts';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { createKafkaClient, FleetProducer, provisionTopics, type KafkaClient } from '../src';
import { captureLogger, uniqueTopicName } from '../src/testing';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export const itemSchema = z.object({ id: z.string(), n: z.number().int() });
export type Item = z.infer<typeof itemSchema>;

export interface Harness {
  kafka: KafkaClient;
  producer: FleetProducer;
  registry: Registry;
  logger: ReturnType<typeof captureLogger>;
  topic: TopicContract<Item>;
  close(): Promise<void>;
}

/** A fresh topic (with .retry and .dlq), a connected producer and a private metrics registry. */
export async function harness(purpose: string, partitions = 1): Promise<Harness> {
  const logger = captureLogger(process.env.FLEET_TEST_VERBOSE === '1');
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers: BROKERS, clientId: `test-${purpose}`, logger });
  const topic = defineTopic({
    name: uniqueTopicName(purpose),
    schema: itemSchema,
    description: 'test',
    partitions,
  });
  await provisionTopics(kafka, [topic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();
  return { kafka, producer, registry, logger, topic, close: () => producer.disconnect() };
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
