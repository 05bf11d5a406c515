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
import { KafkaRuntimeError } from './errors';
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

export interface FleetProducerOptions {
  registry: Registry;
  /** @defaultValue 30000 */
  ackTimeoutMs?: number;
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

  /** Validates and sends messages of one topic in one request; resolves once all replicas have them. */
  async send<T>(
    contract: TopicContract<T>,
    messages: ReadonlyArray<OutgoingMessage<T>>,
  ): Promise<RecordMetadata[]> {
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
      (traceHeaders) =>
        this.sendRaw(
          contract.name,
          records.map((r) => ({ ...r, headers: { ...r.headers, ...traceHeaders } })),
        ),
    );
  }

  /** Sends records that are already encoded (their headers already carry any trace context). */
  async sendRaw(
    topic: string,
    records: ReadonlyArray<{ key: Buffer | string | null; value: Buffer | string | null; headers: IHeaders }>,
  ): Promise<RecordMetadata[]> {
    if (!this.connected) {
      throw new KafkaRuntimeError(
        'PRODUCER_NOT_CONNECTED',
        `producer is not connected (sending to ${topic})`,
      );
    }
    const result = await this.producer.send({
      topic,
      acks: -1,
      timeout: this.ackTimeoutMs,
      compression: CompressionTypes.None,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
    this.metrics.produced.inc({ topic }, records.length);
    return result;
  }
}
