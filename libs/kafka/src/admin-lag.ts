import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type Kafka } from 'kafkajs';

/** One partition of a topic a group reads. */
export interface PartitionLag {
  partition: number;
  /** The next offset the group will read; null while it has committed nothing there. */
  committedOffset: string | null;
  /** The partition's high watermark (the offset the next record will get). */
  endOffset: string;
  /** Records written and not yet consumed by the group. */
  lag: number;
}

export interface TopicLag {
  topic: string;
  /** Sum over the partitions. */
  lag: number;
  partitions: PartitionLag[];
}

export interface GroupLag {
  groupId: string;
  /** The broker's view: `Stable`, `Empty` (no member: nobody is consuming), `PreparingRebalance` … */
  state: string;
  members: number;
  /** Sum over the topics. */
  lag: number;
  topics: TopicLag[];
}

export interface ConsumerLagOptions {
  /** Which groups to look at. @defaultValue every consumer group of the cluster */
  groups?: (groupId: string) => boolean;
  /** Which of a group's topics to report (a group with none left is left out). @defaultValue every topic */
  topics?: (topic: string) => boolean;
  /** Groups whose offsets are fetched at the same time. @defaultValue 16 */
  concurrency?: number;
  /** The whole read fails after this. @defaultValue 5000 */
  timeoutMs?: number;
}

/**
 * Consumer lag per group and topic, read from the broker (committed offsets against high
 * watermarks), as `kafka-consumer-groups --describe` shows it; groups and topics in name order.
 * A partition without a commit counts from its low watermark: the fleet's consumers start from the
 * beginning, so all of it is still to be read. Unlike the `kafka_consumer_lag` metric, which a
 * consumer exports about itself, this also sees a group none of whose members is running.
 */
export async function consumerLag(kafka: Kafka, options: ConsumerLagOptions = {}): Promise<GroupLag[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      readLag(admin, options),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Kafka did not answer the lag read within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * `admin.fetchTopicOffsets`, again after a retriable broker error. kafkajs gives up at once on
 * NOT_LEADER_FOR_PARTITION (a topic just created or a leader just moved) and keeps its stale
 * metadata; this refreshes the topic's metadata and asks again, a few times with backoff.
 */
async function fetchTopicOffsets(admin: Admin, topic: string, attempts = 5) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (attempt >= attempts || !(error as { retriable?: boolean }).retriable) throw error;
      await sleep(50 * 2 ** attempt);
      await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    }
  }
}

async function readLag(admin: Admin, options: ConsumerLagOptions): Promise<GroupLag[]> {
  const wantGroup = options.groups ?? (() => true);
  const wantTopic = options.topics ?? (() => true);
  await admin.connect();
  const { groups } = await admin.listGroups();
  const groupIds = groups
    .filter((g) => g.protocolType === 'consumer' && wantGroup(g.groupId))
    .map((g) => g.groupId)
    .sort();
  if (groupIds.length === 0) return [];

  // One OffsetFetch per group (the protocol has no batch form before v8); without `topics` the
  // broker answers every topic the group committed on.
  const committed = await mapLimited(groupIds, options.concurrency ?? 16, async (groupId) => ({
    groupId,
    topics: (await admin.fetchOffsets({ groupId })).filter((t) => wantTopic(t.topic)),
  }));
  const reading = committed.filter((g) => g.topics.length > 0);
  if (reading.length === 0) return [];

  const topicNames = [...new Set(reading.flatMap((g) => g.topics.map((t) => t.topic)))];
  const watermarks = new Map(
    await mapLimited(topicNames, options.concurrency ?? 16, async (topic) => {
      const partitions = await fetchTopicOffsets(admin, topic);
      return [topic, partitions] as const;
    }),
  );
  const described = new Map(
    (await admin.describeGroups(reading.map((g) => g.groupId))).groups.map((g) => [g.groupId, g] as const),
  );

  return reading.map(({ groupId, topics }) => {
    const topicLags = topics
      .map(({ topic, partitions }): TopicLag => {
        const commits = new Map(
          partitions.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, p.offset] as const),
        );
        const partitionLags = (watermarks.get(topic) ?? [])
          .map(({ partition, high, low }): PartitionLag => {
            const committedOffset = commits.get(partition) ?? null;
            const from = BigInt(committedOffset ?? low);
            const lag = BigInt(high) > from ? Number(BigInt(high) - from) : 0;
            return { partition, committedOffset, endOffset: high, lag };
          })
          .sort((a, b) => a.partition - b.partition);
        return { topic, lag: sum(partitionLags), partitions: partitionLags };
      })
      .sort((a, b) => a.topic.localeCompare(b.topic));
    const description = described.get(groupId);
    return {
      groupId,
      state: description?.state ?? 'Unknown',
      members: description?.members.length ?? 0,
      lag: sum(topicLags),
      topics: topicLags,
    };
  });
}

const sum = (items: ReadonlyArray<{ lag: number }>) => items.reduce((total, item) => total + item.lag, 0);

/** `map` with at most `limit` calls in flight, results in input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
