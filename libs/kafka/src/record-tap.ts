import { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { stringHeaders } from './headers';
import { type RuntimeLogger } from './logger';

/** A record as it is on the topic: bytes, headers as strings, and its coordinates. */
export interface TappedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp, epoch ms. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface RecordTapOptions {
  groupId: string;
  topics: readonly string[];
  logger: RuntimeLogger;
  /**
   * Gets each fetched batch of one partition, in offset order; the offsets are committed once it
   * resolves. When it throws, nothing is committed and the batch comes again (so it must be
   * idempotent: an upsert keyed by the coordinates is).
   */
  onRecords: (records: readonly TappedRecord[]) => Promise<void>;
}

/**
 * A consumer group that reads records raw, without a contract, retries or DLQ of its own: for
 * tools that watch the runtime's own topics (`.retry`, `.dlq`) rather than handle events.
 */
export class RecordTap {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly options: RecordTapOptions,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  }

  /** Joins the group (from the earliest offset for a new group) and resolves once it has joined. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        if (batch.messages.length === 0) return;
        await this.options.onRecords(
          batch.messages.map((m) => tappedRecord(batch.topic, batch.partition, m)),
        );
        resolveOffset(batch.messages.at(-1)!.offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** A fetched message as a {@link TappedRecord}. */
export function tappedRecord(topic: string, partition: number, message: KafkaMessage): TappedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value,
    headers: stringHeaders(message.headers),
  };
}
