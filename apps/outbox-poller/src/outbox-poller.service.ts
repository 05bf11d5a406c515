import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  sqlOf,
  connectDataSource,
  listenForNotifications,
  pingDatabase,
  type DataSource,
  type NotificationListener,
} from '@fleet/db';
import { checkKafka, provisionTopics, TopicGuard, type KafkaClient } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { OUTBOX_ENTITIES, OUTBOX_MIGRATIONS, OUTBOX_NOTIFY_CHANNEL, OutboxStore } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, pingRedis, publishAll, type RedisClient } from '@fleet/redis';
import {
  createGuardedProducer,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type GuardedProducer,
} from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { ALL_TOPICS, inNamespace } from '@fleet/contracts';
import { type Config } from './config';
import { relayMetrics } from './metrics';
import { OutboxPurger } from './purger';
import { OutboxRelay } from './relay';

/**
 * Owns the poller's connections and its relay loop: Postgres (pool + a LISTEN connection), the
 * guarded Kafka producer, Redis for notifications. Starts after Nest has built the module, stops
 * the loop (in-flight batch finished) before the connections close.
 */
@Injectable()
export class OutboxPollerService implements OnApplicationBootstrap, OnModuleDestroy {
  private dataSource: DataSource | undefined;
  private listener: NotificationListener | undefined;
  private relays: OutboxRelay[] = [];
  private purger: OutboxPurger | undefined;
  private readonly kafka: GuardedProducer;
  private readonly redis: RedisClient;
  private readonly store = new OutboxStore();
  /** Its own client: the topic checks must never touch the producer's metadata targets. */
  private readonly admin: ReturnType<KafkaClient['admin']>;
  private readonly topicGuard: TopicGuard;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {
    this.kafka = createGuardedProducer({ config, registry, logger });
    this.redis = createRedisClient({ url: config.REDIS_URL, connectionName: config.SERVICE_NAME, logger });
    this.admin = this.kafka.kafka.admin();
    this.topicGuard = new TopicGuard(this.admin);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { config, logger, registry } = this;
    this.dataSource = await connectDataSource({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      entities: [...OUTBOX_ENTITIES],
      migrations: [...OUTBOX_MIGRATIONS],
      applicationName: config.SERVICE_NAME,
      // A lost "published" mark only means the batch is published again (same event ids), so the
      // poller need not wait for each commit's WAL flush; the writers' commits stay synchronous.
      synchronousCommit: false,
      // One connection per relay loop, one for the metrics query and purges, one spare.
      poolSize: config.OUTBOX_CONCURRENCY + 2,
      logger,
    });
    const dataSource = this.dataSource;
    // Topics of every fleet contract; the broker refuses unknown ones (auto-create is off). A
    // broker that is down now is no reason to stay down: rows wait, and provisioning is retried.
    const topics = ALL_TOPICS.map((topic) => inNamespace(topic, config.KAFKA_TOPIC_NAMESPACE));
    this.topicGuard.remember(topics.map((topic) => topic.name));
    await provisionTopics(this.kafka.kafka, topics).catch((error: unknown) =>
      logger.warn(
        { err: error },
        'topic provisioning failed; publishing to unprovisioned topics will be rejected',
      ),
    );
    const metrics = relayMetrics(registry, () => this.store.stats(sqlOf(dataSource.manager)));
    // Loops of one process behave exactly like separate pollers (key locks keep them apart); two
    // let one claim and mark in PostgreSQL while the other waits for the broker.
    const relays = Array.from(
      { length: config.OUTBOX_CONCURRENCY },
      () =>
        new OutboxRelay({
          dataSource,
          store: this.store,
          producer: this.kafka.producer,
          breaker: this.kafka.breaker,
          topics: this.topicGuard,
          logger,
          metrics,
          batchSize: config.OUTBOX_BATCH_SIZE,
          pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
          retryPolicy: {
            maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
            initialBackoffMs: config.OUTBOX_BACKOFF_INITIAL_MS,
            maxBackoffMs: config.OUTBOX_BACKOFF_MAX_MS,
          },
          notifier: config.OUTBOX_NOTIFY_REDIS
            ? { publishAll: (channel, messages) => publishAll(this.redis, channel, messages) }
            : undefined,
          onBacklog: () => wakeOne(false),
        }),
    );
    this.relays = relays;
    const wakeAll = () => relays.forEach((relay) => relay.wake());
    // A NOTIFY (one per inserted row) wakes ONE loop: waking all of them made every loop but one
    // come back empty, and the empty claims cost more than the full ones (chat benchmark: 23k
    // claims for 13k rows). Loops wake each other while their claims come back full (a backlog).
    // With every loop busy, one of them claims again after its streak: a row committed after
    // the running claims' snapshots is not left for the next poll.
    let next = 0;
    const wakeOne = (evenIfBusy: boolean) => {
      const sleeping = relays.find((relay) => relay.sleeping);
      if (sleeping) sleeping.wake();
      else if (evenIfBusy) relays[next++ % relays.length]!.wake();
    };
    this.kafka.breaker.onStateChange((state) => state === 'half-open' && wakeAll());
    this.listener = listenForNotifications({
      url: config.DATABASE_URL,
      channel: OUTBOX_NOTIFY_CHANNEL,
      // The trigger's payload is the schema the rows went into: other schemas' inserts are not ours.
      onNotify: (schema) => schema === config.DATABASE_SCHEMA && wakeOne(true),
      onConnected: wakeAll,
      logger,
      applicationName: `${config.SERVICE_NAME}-listen`,
    });
    relays.forEach((relay) => relay.start());
    this.purger = new OutboxPurger({
      dataSource,
      store: this.store,
      logger,
      retentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
      intervalMs: config.OUTBOX_PURGE_INTERVAL_MS,
    });
    this.purger.start();
    logger.info(
      {
        batchSize: config.OUTBOX_BATCH_SIZE,
        pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
        schema: config.DATABASE_SCHEMA,
      },
      'outbox relay started',
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.relays.map((relay) => relay.stop()), this.purger?.stop()]);
    await this.listener?.close();
    this.kafka.breaker.shutdown();
    await this.kafka.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    await closeRedisClient(this.redis);
    await this.dataSource?.destroy();
  }

  readinessChecks() {
    return {
      postgres: () =>
        this.dataSource ? pingDatabase(this.dataSource) : Promise.reject(new Error('not connected yet')),
      kafka: () => checkKafka(this.kafka.kafka),
      redis: () => pingRedis(this.redis),
    };
  }
}
