import { FleetHeaders, type TopicContract } from '@fleet/contracts';
import {
  CompressionTypes,
  type IHeaders,
  type Kafka,
  Partitioners,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import { type Registry } from 'prom-client';
import { classifyPublishError, errorMessageOf, KafkaRuntimeError } from './errors';
import { kafkaMetrics, type KafkaMetrics } from './metrics';
import { withProducerSpan } from './tracing';

export interface OutgoingMessage<T> {
  /** Required when the topic's contract says `keyRequired` (per-key order). */
  key?: string;
  value: T;
  /** Unique id of this event, sent as the `x-event-id` header for consumer dedup. */
  eventId?: string;
  headers?: Record<string, string>;
}

/** A pre-encoded record, forwarded as is (DLQ, retry topic, fallback drain). */
export interface RawRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: IHeaders;
}

/**
 * Wraps every request to the broker, e.g. a circuit breaker (`Breaker` of `@fleet/circuit-breaker`
 * satisfies it). Kept structural so this lib needs no breaker dependency.
 */
export interface CallGuard {
  run<T>(call: () => Promise<T>): Promise<T>;
}

/** Records of one topic, for {@link FleetProducer.sendRawBatch}. */
export interface TopicRecords {
  topic: string;
  records: ReadonlyArray<Omit<RawRecord, 'topic'>>;
}

/**
 * Where {@link FleetProducer.send} parks records it could not deliver because the broker is
 * unavailable (or the breaker is open): the Redis fallback list, drained later by
 * `redis-backfill`. Records arrive encoded, trace headers included, so nothing is lost in transit.
 */
export interface FallbackSink {
  push(topic: string, records: ReadonlyArray<Omit<RawRecord, 'topic'>>, reason: string): Promise<void>;
}

/** `sent`: acknowledged by the broker. `queued`: broker unavailable, records are in the fallback sink. */
export type SendOutcome = 'sent' | 'queued';

export interface FleetProducerOptions {
  registry: Registry;
  /** @defaultValue 30000 */
  ackTimeoutMs?: number;
  /** Every send goes through it (the fleet passes its Kafka circuit breaker). @defaultValue none */
  guard?: CallGuard;
  /**
   * Used by {@link FleetProducer.send} when the broker is unavailable; without one such a send
   * rejects. The outbox poller has none on purpose: its rows already are the buffer.
   * @defaultValue none
   */
  fallback?: FallbackSink;
}

/**
 * The fleet's producer: idempotent (no duplicates from internal retries), `acks=all`, one request
 * in flight per broker so a retried batch cannot overtake the next one, payloads validated against
 * the topic contract before they leave the process, trace context in the headers.
 */
export class FleetProducer {
  private readonly producer: Producer;
  private readonly metrics: KafkaMetrics;
  private readonly ackTimeoutMs: number;
  private readonly guard: CallGuard | undefined;
  private readonly fallback: FallbackSink | undefined;
  private connected = false;

  constructor(kafka: Kafka, options: FleetProducerOptions) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, as the Java client: a key lands on the same partition whichever client wrote it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.metrics = kafkaMetrics(options.registry);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.guard = options.guard;
    this.fallback = options.fallback;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Validates and sends messages of one topic in one request; resolves `sent` once all replicas
   * have them. When the broker is unavailable and a fallback sink is configured, the encoded
   * records (trace context included) go to the sink and it resolves `queued`.
   * @throws {@link KafkaRuntimeError} `PAYLOAD_INVALID` / `KEY_REQUIRED` before anything is sent.
   */
  async send<T>(
    contract: TopicContract<T>,
    messages: ReadonlyArray<OutgoingMessage<T>>,
  ): Promise<SendOutcome> {
    const records = messages.map((message, index) => {
      if (contract.keyRequired && !message.key) {
        throw new KafkaRuntimeError(
          'KEY_REQUIRED',
          `topic ${contract.name} requires a key (per-key order); message ${index} has none`,
        );
      }
      const parsed = contract.schema.safeParse(message.value);
      if (!parsed.success) {
        throw new KafkaRuntimeError(
          'PAYLOAD_INVALID',
          `message ${index} for ${contract.name} does not match its schema: ${parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}`,
        );
      }
      const headers: Record<string, string> = { ...message.headers };
      if (message.eventId) headers[FleetHeaders.eventId] = message.eventId;
      return { key: message.key ?? null, value: JSON.stringify(parsed.data), headers };
    });
    return withProducerSpan(
      contract.name,
      { 'messaging.batch.message_count': records.length },
      async (traceHeaders) => {
        const traced = records.map((r) => ({ ...r, headers: { ...r.headers, ...traceHeaders } }));
        try {
          await this.sendRaw(contract.name, traced);
          return 'sent';
        } catch (error) {
          if (!this.fallback || classifyPublishError(error) !== 'unavailable') throw error;
          // Marked so that an event's life still shows the detour once the drain has sent it on.
          const queuedAt = new Date().toISOString();
          const parked = traced.map((r) => ({
            ...r,
            headers: { ...r.headers, [FleetHeaders.fallbackQueuedAt]: queuedAt },
          }));
          await this.fallback.push(contract.name, parked, errorMessageOf(error));
          this.metrics.queuedToFallback.inc({ topic: contract.name }, traced.length);
          return 'queued';
        }
      },
    );
  }

  /** Sends records that are already encoded (their headers already carry any trace context). */
  async sendRaw(
    topic: string,
    records: ReadonlyArray<{ key: Buffer | string | null; value: Buffer | string | null; headers: IHeaders }>,
  ): Promise<RecordMetadata[]> {
    return this.sendRawBatch([{ topic, records }]);
  }

  /**
   * Sends encoded records of several topics in one produce request per broker; resolves once every
   * record is acknowledged by all in-sync replicas, or rejects as a whole (see `classifyPublishError`).
   */
  async sendRawBatch(batches: ReadonlyArray<TopicRecords>): Promise<RecordMetadata[]> {
    if (!this.connected) {
      throw new KafkaRuntimeError(
        'PRODUCER_NOT_CONNECTED',
        `producer is not connected (sending to ${batches.map((b) => b.topic).join(', ')})`,
      );
    }
    const send = () =>
      this.producer.sendBatch({
        acks: -1,
        timeout: this.ackTimeoutMs,
        compression: CompressionTypes.None,
        topicMessages: batches.map(({ topic, records }) => ({
          topic,
          messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
        })),
      });
    const result = await (this.guard ? this.guard.run(send) : send());
    for (const { topic, records } of batches) this.metrics.produced.inc({ topic }, records.length);
    return result;
  }
}
