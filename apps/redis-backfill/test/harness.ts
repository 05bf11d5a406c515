/**
 * What the redis-backfill integration tests share: the bundled app run as a child process (the
 * artifact that ships), a fresh fallback key prefix and fresh topics per test on the real servers,
 * and a consumer that records every delivery, duplicates included.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createKafkaClient, type KafkaClient } from '@fleet/kafka';
import {
  captureLogger,
  recordTopic,
  uniqueTopicName,
  waitFor,
  type TopicRecording,
} from '@fleet/kafka/testing';
import { AppProcess, buildAppBundle } from '@fleet/service-kit/testing';
import {
  closeRedisClient,
  createRedisClient,
  FallbackQueue,
  fallbackQueueKeys,
  type RedisClient,
} from '@fleet/redis';

export const ROOT = resolve(__dirname, '../../..');
export const BUNDLE = join(ROOT, 'dist', 'test', 'redis-backfill', 'main.js');
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

/** Bundles the app once per test process, as tools/build.mjs does for a deployment. */
export function buildApp(): string {
  return buildAppBundle('redis-backfill');
}

/** One redis-backfill process (the bundle), on a free health port. */
export type App = AppProcess;
export const App = {
  start: (env: Record<string, string>): Promise<App> =>
    AppProcess.start({
      app: 'redis-backfill',
      env: { KAFKA_BROKERS: BROKERS, REDIS_URL, FALLBACK_POLL_INTERVAL_MS: '200', ...env },
    }),
};

/** A record as a producer would have queued it, with the headers a fleet producer sets. */
export interface SentRecord {
  id: string;
  key: string;
  value: string;
  traceparent: string;
}

export function makeRecords(count: number, keys = 20): SentRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `evt-${n}-${randomUUID().slice(0, 8)}`,
    key: `key-${n % keys}`,
    value: JSON.stringify({ n }),
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  }));
}

export interface Received {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Everything a topic received since `start`, duplicates included. */
export class TopicRecorder {
  private constructor(private readonly recording: TopicRecording) {}

  static async start(kafka: KafkaClient, topics: string[]): Promise<TopicRecorder> {
    return new TopicRecorder(await recordTopic(kafka, topics));
  }

  /** What arrived so far, value decoded as UTF-8 and offset as a number. */
  get messages(): Received[] {
    return this.recording.messages.map((m) => ({
      ...m,
      offset: Number(m.offset),
      value: m.value?.toString() ?? null,
    }));
  }

  distinctIds(): Set<string> {
    return new Set(this.recording.messages.map((m) => m.headers['x-event-id'] ?? ''));
  }

  async waitForDistinct(count: number, timeoutMs: number): Promise<void> {
    await waitFor(
      `${count} distinct records on the topic (have ${this.distinctIds().size})`,
      () => this.distinctIds().size >= count,
      timeoutMs,
    );
  }

  stop(): Promise<void> {
    return this.recording.stop();
  }
}

/** A fresh key prefix, fresh topics, Redis and Kafka clients: one per test. */
export interface Fixture {
  prefix: string;
  redis: RedisClient;
  queue: FallbackQueue;
  kafka: KafkaClient;
  createTopic(purpose: string, partitions?: number): Promise<string>;
  push(topic: string, records: readonly SentRecord[]): Promise<void>;
  close(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const logger = captureLogger(VERBOSE);
  const prefix = `test:${randomUUID()}:`;
  const redis = createRedisClient({ url: REDIS_URL, connectionName: 'redis-backfill-test', logger });
  const queue = new FallbackQueue(redis, { keys: fallbackQueueKeys(prefix) });
  const kafka = createKafkaClient({ brokers: BROKERS.split(','), clientId: 'redis-backfill-test', logger });
  return {
    prefix,
    redis,
    queue,
    kafka,
    async createTopic(purpose, partitions = 3) {
      const topic = uniqueTopicName(purpose);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      return topic;
    },
    async push(topic, records) {
      // In chunks, like many producers falling back at once; each push is one RPUSH.
      for (let i = 0; i < records.length; i += 500) {
        await queue.push(
          topic,
          records.slice(i, i + 500).map((r) => ({
            key: r.key,
            value: r.value,
            headers: { 'x-event-id': r.id, traceparent: r.traceparent },
          })),
          'broker unavailable (test)',
        );
      }
    },
    async close() {
      await redis.del(...Object.values(fallbackQueueKeys(prefix)));
      await closeRedisClient(redis);
    },
  };
}

/** Asserts each sent record arrived with key, value and headers intact; returns the duplicates count. */
export function checkDelivered(
  sent: readonly SentRecord[],
  received: readonly Received[],
  topic: string,
): { missing: string[]; altered: string[]; duplicates: number } {
  const byId = new Map<string, Received[]>();
  for (const message of received) {
    if (message.topic !== topic) continue;
    const id = message.headers['x-event-id'] ?? '';
    byId.set(id, [...(byId.get(id) ?? []), message]);
  }
  const missing: string[] = [];
  const altered: string[] = [];
  let duplicates = 0;
  for (const record of sent) {
    const copies = byId.get(record.id);
    if (!copies) {
      missing.push(record.id);
      continue;
    }
    duplicates += copies.length - 1;
    for (const copy of copies) {
      if (
        copy.key !== record.key ||
        copy.value !== record.value ||
        copy.headers.traceparent !== record.traceparent
      ) {
        altered.push(record.id);
      }
    }
  }
  return { missing, altered, duplicates };
}

/**
 * Per-key order: within each key, the records arrived in the order they were queued (first copies;
 * a key always maps to one partition, so offsets tell the order).
 */
export function keyOrderViolations(
  sent: readonly SentRecord[],
  received: readonly Received[],
  topic: string,
): number {
  const position = new Map(sent.map((r, i) => [r.id, i]));
  const firstOffset = new Map<string, Received>();
  for (const m of received) {
    if (m.topic !== topic) continue;
    const id = m.headers['x-event-id'] ?? '';
    const seen = firstOffset.get(id);
    if (!seen || m.offset < seen.offset) firstOffset.set(id, m);
  }
  const byKey = new Map<string, Received[]>();
  for (const m of firstOffset.values()) byKey.set(m.key ?? '', [...(byKey.get(m.key ?? '') ?? []), m]);
  let violations = 0;
  for (const messages of byKey.values()) {
    messages.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < messages.length; i++) {
      const before = position.get(messages[i - 1]!.headers['x-event-id'] ?? '') ?? -1;
      const after = position.get(messages[i]!.headers['x-event-id'] ?? '') ?? -1;
      if (after < before) violations++;
    }
  }
  return violations;
}
