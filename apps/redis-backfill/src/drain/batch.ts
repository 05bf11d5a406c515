import { type FallbackRecord } from '@fleet/contracts';
import { type TopicRecords } from '@fleet/kafka';

/** A claimed list entry and the record it holds. */
export interface ClaimedRecord {
  raw: string;
  record: FallbackRecord;
}

/** The Kafka record of a fallback record: topic, key, value and every header exactly as queued. */
export function toKafkaRecord(record: FallbackRecord): TopicRecords['records'][number] {
  return { key: record.key, value: record.value, headers: { ...record.headers } };
}

/** Groups records by topic, keeping their order within each topic (and so within each key). */
export function groupByTopic<T extends { record: FallbackRecord }>(
  claimed: readonly T[],
): Array<{ topic: string; items: T[] }> {
  const groups = new Map<string, T[]>();
  for (const item of claimed) {
    const group = groups.get(item.record.topic);
    if (group) group.push(item);
    else groups.set(item.record.topic, [item]);
  }
  return [...groups].map(([topic, items]) => ({ topic, items }));
}

/** One produce request's worth of topic batches. */
export function toTopicBatches(claimed: readonly ClaimedRecord[]): TopicRecords[] {
  return groupByTopic(claimed).map(({ topic, items }) => ({
    topic,
    records: items.map((item) => toKafkaRecord(item.record)),
  }));
}

/** Exponential backoff after `failures` consecutive failed rounds (1 = the first): capped. */
export function backoffDelayMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
}

/**
 * Counts how often the broker rejected each record (by fallback id), so a record that can never be
 * sent reaches the dead list after a bounded number of tries instead of blocking the queue. Kept in
 * memory: a restart starts counting again, which only delays the dead list by a few rounds.
 */
export class RejectionCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Records one more rejection. @returns true when the record has now used up its tries */
  reject(id: string): boolean {
    const count = (this.counts.get(id) ?? 0) + 1;
    if (count >= this.limit) {
      this.counts.delete(id);
      return true;
    }
    this.counts.set(id, count);
    return false;
  }

  count(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  forget(id: string): void {
    this.counts.delete(id);
  }

  get size(): number {
    return this.counts.size;
  }
}
