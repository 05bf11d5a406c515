import { dlqTopicOf, retryTopicOf, type TopicContract } from '@fleet/contracts';
import { type Kafka } from 'kafkajs';
import { KafkaRuntimeError } from './errors';

export interface ProvisionOptions {
  /** Replication factor of every topic created (1 for a single local broker). @defaultValue 1 */
  replicationFactor?: number;
  /** Retention of `.dlq` topics: long enough for someone to look. @defaultValue 1209600000 (14 days) */
  dlqRetentionMs?: number;
}

export interface ProvisionResult {
  created: string[];
  existing: string[];
}

/**
 * Creates each contract's topic with its `.retry` and `.dlq` companions, explicitly (brokers run
 * with auto-create off, so a typo in a topic name fails loudly instead of creating a stray topic).
 * Idempotent: topics that exist are left as they are.
 */
export async function provisionTopics(
  kafka: Kafka,
  contracts: ReadonlyArray<TopicContract<unknown>>,
  options: ProvisionOptions = {},
): Promise<ProvisionResult> {
  const replicationFactor = options.replicationFactor ?? 1;
  const dlqRetentionMs = options.dlqRetentionMs ?? 14 * 24 * 3_600_000;
  const wanted = contracts.flatMap((c) => [
    { topic: c.name, numPartitions: c.partitions, replicationFactor },
    { topic: retryTopicOf(c.name), numPartitions: c.partitions, replicationFactor },
    {
      topic: dlqTopicOf(c.name),
      numPartitions: c.partitions,
      replicationFactor,
      configEntries: [{ name: 'retention.ms', value: String(dlqRetentionMs) }],
    },
  ]);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    }
    return {
      created: missing.map((t) => t.topic),
      existing: wanted.filter((t) => existing.has(t.topic)).map((t) => t.topic),
    };
  } catch (cause) {
    throw new KafkaRuntimeError('PROVISIONING_FAILED', `could not provision topics: ${String(cause)}`, {
      cause,
    });
  } finally {
    await admin.disconnect();
  }
}
