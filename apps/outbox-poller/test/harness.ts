import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTopic, type TopicContract } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger, uniqueTopicName, type CollectedMessage } from '@fleet/kafka/testing';
import { enqueue, OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { AppProcess, buildAppBundle } from '@fleet/service-kit/testing';
import { z } from 'zod';

export const ROOT = resolve(__dirname, '../../..');
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `uid` is unique per written event (independent of the event id), `n` counts up per key. */
export const itemSchema = z.object({ uid: z.string(), key: z.string(), n: z.number().int().nonnegative() });
export type Item = z.infer<typeof itemSchema>;

export interface PollerTest {
  db: TestSchema;
  topic: TopicContract<Item>;
  kafka: KafkaClient;
  close(): Promise<void>;
}

/** Bundles the app once per test process, as tools/fleet and the container image do. */
export function buildPoller(): string {
  return buildAppBundle('outbox-poller');
}

/** A fresh schema with the outbox table, and a fresh topic (provisioned with retry/dlq companions). */
export async function setupPollerTest(purpose: string, partitions = 6): Promise<PollerTest> {
  buildPoller();
  const db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS] });
  const kafka = createKafkaClient({
    brokers: BROKERS.split(','),
    clientId: `test-${purpose}`,
    logger: captureLogger(),
  });
  const topic = defineTopic({
    name: uniqueTopicName(purpose),
    schema: itemSchema,
    description: 'test',
    partitions,
  });
  await provisionTopics(kafka, [topic]);
  return { db, topic, kafka, close: () => db.drop() };
}

/** The bundled outbox-poller as a child process, pointed at one test schema. */
export type PollerProcess = AppProcess;
export const PollerProcess = {
  async start(schema: string, env: Record<string, string> = {}): Promise<PollerProcess> {
    const poller = await AppProcess.start({
      app: 'outbox-poller',
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        KAFKA_BROKERS: BROKERS,
        REDIS_URL,
        OUTBOX_POLL_INTERVAL_MS: '200',
        KAFKA_BREAKER_RESET_MS: '2000',
        ...env,
      },
    });
    await poller.waitForHealth('/health/live');
    return poller;
  },
};

/** Writes one event in its own transaction, optionally holding the transaction open first. */
export async function writeEvent(
  dataSource: DataSource,
  topic: TopicContract<Item>,
  item: Item,
  holdMs = 0,
): Promise<string> {
  return dataSource.transaction(async (tx) => {
    const id = await enqueue(tx, topic, {
      aggregateType: 'item',
      aggregateKey: item.key,
      eventType: 'item.created',
      payload: item,
    });
    if (holdMs > 0) await sleep(holdMs);
    return id;
  });
}

export interface DeliveryReport {
  /** Distinct event ids seen. */
  distinct: number;
  /** Records beyond the first of their event id. */
  duplicates: number;
  /** Keys whose events, first occurrences in partition order, are not in increasing `n`. */
  orderViolations: string[];
  /** Event ids that arrived with a different payload `uid` than an earlier copy (must be none). */
  idMismatches: number;
  byEventId: Map<string, Item>;
}

/**
 * Checks what reached the topic. Delivery is at least once, so order is judged the way a
 * deduplicating consumer sees it: the first copy of each event id, in partition order.
 */
export function inspect(messages: readonly CollectedMessage[]): DeliveryReport {
  const byEventId = new Map<string, Item>();
  const lastN = new Map<string, number>();
  const orderViolations = new Set<string>();
  let duplicates = 0;
  let idMismatches = 0;
  const ordered = [...messages].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  for (const message of ordered) {
    const id = message.headers['x-event-id'];
    const item = itemSchema.parse(JSON.parse(message.value!.toString()));
    const seen = byEventId.get(id);
    if (seen) {
      duplicates++;
      if (seen.uid !== item.uid) idMismatches++;
      continue;
    }
    byEventId.set(id, item);
    if (message.key !== item.key) orderViolations.add(`${item.key} (record key ${message.key})`);
    if ((lastN.get(item.key) ?? -1) >= item.n) orderViolations.add(item.key);
    lastN.set(item.key, item.n);
  }
  return {
    distinct: byEventId.size,
    duplicates,
    orderViolations: [...orderViolations],
    idMismatches,
    byEventId,
  };
}
