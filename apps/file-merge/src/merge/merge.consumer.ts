import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { inNamespace, uploadMergeRequested, type MergeRequest, groupInNamespace } from '@fleet/contracts';
import {
  FleetConsumer,
  provisionTopics,
  subscribe,
  type FleetProducer,
  type KafkaClient,
} from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { FLEET_PRODUCER, KAFKA_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { MergeUpload } from './merge-upload.use-case';

/**
 * The consumer group on `upload.merge.requested.1` (namespaced by `KAFKA_TOPIC_NAMESPACE`): one
 * merge per partition at a time, transient failures through the runtime's `.retry` topic
 * (`FILE_MERGE_MAX_ATTEMPTS`, doubling from `FILE_MERGE_RETRY_INITIAL_BACKOFF_MS`), refusals and
 * exhausted retries to `.dlq`. Requests are keyed by upload id, so in steady state one replica
 * handles all requests of an upload, in order.
 */
@Injectable()
export class MergeConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: FleetConsumer | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(MergeUpload) private readonly mergeUpload: MergeUpload,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, logger } = this;
    const topic = inNamespace(uploadMergeRequested, config.KAFKA_TOPIC_NAMESPACE);
    // The consumer needs its topic and the runtime's companions (auto-create is off); idempotent.
    await provisionTopics(this.kafka, [topic]);
    await this.producer.connect();
    this.consumer = new FleetConsumer(this.kafka, {
      groupId: groupInNamespace(config.FILE_MERGE_GROUP, config.KAFKA_TOPIC_NAMESPACE),
      subscriptions: [subscribe<MergeRequest>(topic, (request) => this.mergeUpload.handle(request))],
      producer: this.producer,
      registry: this.registry,
      logger,
      retry: {
        maxAttempts: config.FILE_MERGE_MAX_ATTEMPTS,
        initialBackoffMs: config.FILE_MERGE_RETRY_INITIAL_BACKOFF_MS,
        backoffMultiplier: 2,
      },
      partitionsConsumedConcurrently: config.FILE_MERGE_PARTITIONS_CONCURRENCY,
      sessionTimeoutMs: config.FILE_MERGE_SESSION_TIMEOUT_MS,
    });
    await this.consumer.start();
    logger.info({ topic: topic.name, group: config.FILE_MERGE_GROUP }, 'file merge consuming');
  }

  /**
   * SIGTERM: stop fetching and let the in-flight merges finish, then commit and leave the group.
   * A merge still running at the shutdown deadline dies with the process uncommitted: another
   * replica gets the request again and repeats the merge.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
