/**
 * What the message-router integration tests share: the bundled router run as a child process (the
 * artifact that ships), a fresh topic namespace (`KAFKA_TOPIC_NAMESPACE`, so the fixed contract
 * topics become fresh topics per fixture) and a fresh database schema per fixture, and the fake
 * WhatsApp / Instagram server in the test process.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { FakeChannelServer, type FakeChannelCall } from '@fleet/channels/testing';
import {
  chatMessageOutgoing,
  chatMessageStatus,
  dlqTopicOf,
  inNamespace,
  type DeliveryChannel,
  type MessageStatusUpdate,
  type OutgoingMessage,
  type TopicContract,
} from '@fleet/contracts';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, FleetProducer, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, type TopicRecording } from '@fleet/kafka/testing';
import { AppProcess, buildAppBundle } from '@fleet/service-kit/testing';
import { Registry } from 'prom-client';
import { type MigrationClass } from '@fleet/db';
import { ROUTER_MIGRATIONS } from '../src/db/migrations';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

const TOKENS = { whatsapp: 'test-whatsapp-token', instagram: 'test-instagram-token' } as const;
const PHONE_NUMBER_ID = '100000000000001';

/** Bundles the app once per test process, as tools/build.mjs does for a deployment. */
export function buildRouter(): string {
  return buildAppBundle('message-router');
}

/** A status row the router wrote to the outbox (what the outbox poller will publish). */
export interface StatusRow {
  topic: string;
  key: string;
  eventType: string;
  payload: MessageStatusUpdate;
}

/** One isolated world per fixture: namespace (topics), schema, fake channels, Kafka clients. */
export class RouterFixture {
  readonly input: TopicContract<OutgoingMessage>;
  readonly statusTopic: TopicContract<MessageStatusUpdate>;
  private readonly routers: AppProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestSchema,
    readonly fake: FakeChannelServer,
    readonly kafka: KafkaClient,
    readonly producer: FleetProducer,
    readonly dlq: TopicRecording,
  ) {
    this.input = inNamespace(chatMessageOutgoing, namespace);
    this.statusTopic = inNamespace(chatMessageStatus, namespace);
  }

  /** @param extraMigrations more tables in the router's schema (the ops tables, for redrives) */
  static async create(extraMigrations: readonly MigrationClass[] = []): Promise<RouterFixture> {
    buildRouter();
    const namespace = `rt${randomBytes(4).toString('hex')}`;
    const db = await createTestSchema({
      url: DATABASE_URL,
      migrations: [...ROUTER_MIGRATIONS, ...extraMigrations],
    });
    const fake = await FakeChannelServer.start({ tokens: TOKENS, phoneNumberId: PHONE_NUMBER_ID });
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'message-router-test',
      logger: captureLogger(VERBOSE),
    });
    const input = inNamespace(chatMessageOutgoing, namespace);
    await provisionTopics(kafka, [input]);
    const producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    const dlq = await recordTopic(kafka, dlqTopicOf(input.name));
    return new RouterFixture(namespace, db, fake, kafka, producer, dlq);
  }

  /** Starts one router replica and waits until it is ready (consumer group joined). */
  async startRouter(env: Record<string, string> = {}): Promise<AppProcess> {
    const router = await AppProcess.start({
      app: 'message-router',
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: this.db.schema,
        KAFKA_BROKERS: BROKERS,
        REDIS_URL,
        KAFKA_TOPIC_NAMESPACE: this.namespace,
        WHATSAPP_API_BASE_URL: this.fake.url,
        WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
        WHATSAPP_ACCESS_TOKEN: TOKENS.whatsapp,
        INSTAGRAM_API_BASE_URL: this.fake.url,
        INSTAGRAM_ACCESS_TOKEN: TOKENS.instagram,
        CHANNEL_TIMEOUT_MS: '2000',
        ROUTER_SEND_LEASE_MS: '4000',
        // No api here, so no webhook confirmations unless a test writes them: keep takeovers quick.
        ROUTER_CONFIRMATION_GRACE_MS: '1000',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    this.routers.push(router);
    // Readiness answers once Nest is up, i.e. after the consumer joined its groups.
    await router.waitForHealth('/health/ready', 60_000);
    return router;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.producer.send(
      this.input,
      messages.map((value) => ({ key: value.conversationId, value, eventId: randomUUID() })),
    );
  }

  /** Status records on the status topic, as the api writes them from webhooks (or the router). */
  async sendStatus(updates: readonly MessageStatusUpdate[]): Promise<void> {
    await this.producer.send(
      this.statusTopic,
      updates.map((value) => ({ key: value.conversationId, value, eventId: randomUUID() })),
    );
  }

  /** A record that is not a valid outgoing message (the api would never write it; a bug might). */
  async sendRaw(key: string, value: string, headers: Record<string, string> = {}): Promise<void> {
    await this.producer.sendRaw(this.input.name, [{ key, value, headers }]);
  }

  /** The fake's calls addressed to this message's recipient on `channel`. */
  callsFor(message: OutgoingMessage, channel: DeliveryChannel): FakeChannelCall[] {
    const to = message.recipients[channel];
    return this.fake.callsFor(channel, (call) => call.to === to);
  }

  /** The Kafka headers of the status rows of one message (trace context included). */
  async statusHeaders(messageId: string): Promise<Array<Record<string, string>>> {
    const rows = await this.db.dataSource.query<Array<{ headers: Record<string, string> }>>(
      `SELECT headers FROM outbox_events WHERE payload->>'messageId' = $1 ORDER BY seq`,
      [messageId],
    );
    return rows.map((r) => r.headers);
  }

  async statuses(messageId?: string): Promise<StatusRow[]> {
    const rows = await this.db.dataSource.query<
      Array<{ topic: string; aggregate_key: string; event_type: string; payload: MessageStatusUpdate }>
    >(
      `SELECT topic, aggregate_key, event_type, payload FROM outbox_events
        WHERE ($1::uuid IS NULL OR payload->>'messageId' = $1::text) ORDER BY seq`,
      [messageId ?? null],
    );
    return rows.map((r) => ({
      topic: r.topic,
      key: r.aggregate_key,
      eventType: r.event_type,
      payload: r.payload,
    }));
  }

  async delivery(
    messageId: string,
    channel: DeliveryChannel,
  ): Promise<
    | { state: string; attempts: number; channel_message_id: string | null; last_error: string | null }
    | undefined
  > {
    const rows = await this.db.dataSource.query<
      Array<{ state: string; attempts: number; channel_message_id: string | null; last_error: string | null }>
    >(
      `SELECT state, attempts, channel_message_id, last_error FROM router_deliveries
        WHERE message_id = $1 AND channel = $2`,
      [messageId, channel],
    );
    return rows[0];
  }

  /** DLQ records of one message (matched by its id in the original value). */
  dlqFor(messageId: string) {
    return this.dlq.messages.filter((m) => m.value?.toString().includes(messageId));
  }

  logFiles(): string {
    return this.routers.map((r) => r.logFile).join(', ');
  }

  async close(): Promise<void> {
    await Promise.all(this.routers.map((r) => r.stop()));
    await this.dlq.stop();
    await this.producer.disconnect();
    await this.fake.stop();
    await this.db.drop();
  }
}

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** A valid outgoing message with recipients unique to it, so fake calls are attributable. */
export function makeMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    messageId: randomUUID(),
    conversationId: randomUUID(),
    senderId: 'user-test',
    channel: 'all',
    text: `hello ${randomUUID().slice(0, 8)}`,
    recipients: { whatsapp: `+1555${digits(8)}`, instagram: `17841${digits(11)}` },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}
