import { defineTopic, type TopicContract } from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import {
  createKafkaClient,
  FleetConsumer,
  FleetProducer,
  provisionTopics,
  subscribe,
  type KafkaClient,
  type MessageContext,
} from '@fleet/kafka';
import { captureLogger, uniqueGroupId, uniqueTopicName } from '@fleet/kafka/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { DeadLetterIndexer, OPS_MIGRATIONS, Redriver } from '../src';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

export const itemSchema = z.object({ key: z.string(), seq: z.number().int() });
export type Item = z.infer<typeof itemSchema>;

export interface OpsHarness {
  kafka: KafkaClient;
  producer: FleetProducer;
  registry: Registry;
  logger: ReturnType<typeof captureLogger>;
  topic: TopicContract<Item>;
  db: TestSchema;
  sql: Sql;
  indexer: DeadLetterIndexer;
  redriver: Redriver;
  /** A consumer group on the topic with the runtime's retries (fast backoff for tests). */
  group(
    name: string,
    handler: (value: Item, context: MessageContext) => Promise<void>,
  ): Promise<FleetConsumer>;
  close(): Promise<void>;
}

/**
 * A fresh topic (with its companions), a schema with the outbox and ops tables, the dead-letter
 * indexer on that topic and a redriver: the real servers, nothing shared with other suites.
 */
export async function opsHarness(
  purpose: string,
  { partitions = 3, redriveCap = 3 } = {},
): Promise<OpsHarness> {
  const logger = captureLogger(process.env.FLEET_TEST_VERBOSE === '1');
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers: BROKERS, clientId: `ops-test-${purpose}`, logger });
  const topic = defineTopic({
    name: uniqueTopicName(purpose),
    schema: itemSchema,
    description: 'test',
    partitions,
  });
  await provisionTopics(kafka, [topic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();
  const db = await createTestSchema({
    url: DATABASE_URL,
    migrations: [...OUTBOX_MIGRATIONS, ...OPS_MIGRATIONS],
  });
  const sql = sqlOf(db.dataSource.manager);
  const indexer = new DeadLetterIndexer({
    kafka,
    sql,
    contracts: [topic],
    logger,
    registry,
    groupId: uniqueGroupId('ops-indexer'),
    redriveCap,
  });
  await indexer.start();
  const redriver = new Redriver({ sql, producer, logger, registry, redriveCap });
  const consumers: FleetConsumer[] = [];
  return {
    kafka,
    producer,
    registry,
    logger,
    topic,
    db,
    sql,
    indexer,
    redriver,
    async group(name, handler) {
      const consumer = new FleetConsumer(kafka, {
        groupId: uniqueGroupId(name),
        producer,
        registry,
        logger,
        retry: { maxAttempts: 2, initialBackoffMs: 100, backoffMultiplier: 1 },
        heartbeatIntervalMs: 1_000,
        subscriptions: [subscribe(topic, handler)],
        onFatalError: (error) => {
          throw error;
        },
      });
      await consumer.start();
      consumers.push(consumer);
      return consumer;
    },
    async close() {
      await Promise.all(consumers.map((c) => c.stop()));
      await indexer.stop();
      await redriver.drain();
      await producer.disconnect();
      await db.drop();
    },
  };
}
