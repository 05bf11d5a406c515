import { randomUUID } from 'node:crypto';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { tappedRecord, type TappedRecord } from './record-tap';

export interface LocateOptions {
  topic: string;
  /** The record's key: its partition is computed as the producer computed it (murmur2). */
  key: string | null;
  /** Which record it is, e.g. its `x-event-id` header. */
  match: (record: TappedRecord) => boolean;
  /** The record was written at or after this time (e.g. the outbox row's creation). */
  since: Date;
  /** Records read per partition before giving up. @defaultValue 20000 */
  maxScan?: number;
  /** @defaultValue 15000 */
  timeoutMs?: number;
}

/** The partition the fleet's producers give `key` on a topic of `partitions` partitions (murmur2). */
export function partitionFor(key: string, partitions: number): number {
  return Partitioners.DefaultPartitioner()({
    topic: '',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    })),
    message: { key, value: null },
  });
}

/** Partition counts of topics, as the broker has them. */
export async function partitionCounts(kafka: Kafka, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    return new Map(metadata.topics.map((t) => [t.name, t.partitions.length] as const));
  } finally {
    await admin.disconnect();
  }
}

/** The partition the fleet's producers give `key` (the Java client's murmur2). */
export async function partitionOfKey(admin: Admin, topic: string, key: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitionMetadata = metadata.topics[0]?.partitions ?? [];
  return Partitioners.DefaultPartitioner()({
    topic,
    partitionMetadata,
    message: { key, value: null },
  });
}

/**
 * Finds one record on a topic without an index: from the offset the broker had at `since`, on the
 * key's partition (every partition for a record without a key), until `match` says yes, the end of
 * the partition, or `maxScan` records. Reads with a throwaway consumer group, deleted after.
 */
export async function locateRecord(kafka: Kafka, options: LocateOptions): Promise<TappedRecord | undefined> {
  const { topic, key, match, since, maxScan = 20_000, timeoutMs = 15_000 } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const highs = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const),
    );
    const partitions = key === null ? [...highs.keys()] : [await partitionOfKey(admin, topic, key)];
    const starts = new Map(
      (await admin.fetchTopicOffsetsByTimestamp(topic, since.getTime()))
        .filter((p) => partitions.includes(p.partition))
        .map((p) => [p.partition, BigInt(p.offset)] as const),
    );
    // Partitions with nothing at or after `since` need no reading.
    const pending = partitions.filter((p) => (starts.get(p) ?? 0n) < (highs.get(p) ?? 0n));
    if (pending.length === 0) return undefined;

    const groupId = `fleet-ops-locate-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      return await new Promise<TappedRecord | undefined>((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        const done = (value: TappedRecord | undefined) => {
          clearTimeout(timer);
          resolve(value);
        };
        const left = new Set(pending);
        const scanned = new Map<number, number>();
        void (async () => {
          await consumer.subscribe({ topics: [topic], fromBeginning: false });
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch }) => {
              if (!left.has(batch.partition)) return;
              for (const m of batch.messages) {
                const record = tappedRecord(topic, batch.partition, m);
                if (match(record)) return done(record);
                const count = (scanned.get(batch.partition) ?? 0) + 1;
                scanned.set(batch.partition, count);
                const atEnd = BigInt(m.offset) + 1n >= (highs.get(batch.partition) ?? 0n);
                if (atEnd || count >= maxScan) {
                  left.delete(batch.partition);
                  if (left.size === 0) return done(undefined);
                  return;
                }
              }
            },
          });
          for (const partition of pending) {
            consumer.seek({ topic, partition, offset: String(starts.get(partition) ?? 0n) });
          }
        })().catch(reject);
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's committed offsets on one topic (the next offset it will read, per partition). */
export interface GroupOffsets {
  groupId: string;
  offsets: ReadonlyMap<number, bigint>;
}

/**
 * Every consumer group that has committed an offset on `topic`, with those offsets. Groups named
 * by `exclude` (e.g. retry companions, tools' own groups) are skipped.
 */
export async function groupsOnTopic(
  kafka: Kafka,
  topic: string,
  exclude: (groupId: string) => boolean = () => false,
): Promise<GroupOffsets[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const candidates = groups.filter((g) => g.protocolType === 'consumer' && !exclude(g.groupId));
    const out: GroupOffsets[] = [];
    for (const { groupId } of candidates) {
      out.push({ groupId, offsets: await committedOffsets(admin, groupId, topic) });
    }
    return out.filter((g) => g.offsets.size > 0).sort((a, b) => a.groupId.localeCompare(b.groupId));
  } finally {
    await admin.disconnect();
  }
}

/** One group's committed offsets on `topic`, partitions without a commit left out. */
export async function groupOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await committedOffsets(admin, groupId, topic);
  } finally {
    await admin.disconnect();
  }
}

async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offsets = new Map<number, bigint>();
  for (const p of entry?.partitions ?? []) {
    if (Number(p.offset) >= 0) offsets.set(p.partition, BigInt(p.offset));
  }
  return offsets;
}
