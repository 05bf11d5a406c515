import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { chatMessageStatus, inNamespace, groupInNamespace } from '@fleet/contracts';
import { FleetConsumer, provisionTopics, subscribe } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER, type GuardedProducer } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { GUARDED_PRODUCER } from '../app.tokens';
import { type Config } from '../config';
import { ApplyStatus } from './apply-status.use-case';

/** Wait between attempts to join the group while Kafka is unreachable at boot. */
const START_RETRY_MS = 5_000;

/**
 * Runs the `api-status` consumer group on `chat.message.status.1` (retries and DLQ by
 * FleetConsumer). Joined in the background, so the HTTP API serves while Kafka is still coming up;
 * stopped before the listener closes and the pools are released.
 */
@Injectable()
export class StatusConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: FleetConsumer | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(GUARDED_PRODUCER) private readonly kafka: GuardedProducer,
    @Inject(ApplyStatus) private readonly applyStatus: ApplyStatus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.CHAT_STATUS_CONSUMER === 0) {
      this.logger.info({}, 'status consumer disabled (CHAT_STATUS_CONSUMER=0)');
      return;
    }
    this.starting = this.startWithRetry();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting;
    await this.consumer?.stop();
  }

  private async startWithRetry(): Promise<void> {
    const topic = inNamespace(chatMessageStatus, this.config.KAFKA_TOPIC_NAMESPACE);
    while (!this.stopping) {
      try {
        await provisionTopics(this.kafka.kafka, [topic]);
        if (!this.kafka.producer.isConnected) await this.kafka.producer.connect();
        const consumer = new FleetConsumer(this.kafka.kafka, {
          groupId: groupInNamespace(this.config.CHAT_STATUS_GROUP, this.config.KAFKA_TOPIC_NAMESPACE),
          subscriptions: [
            subscribe(topic, async (update) => void (await this.applyStatus.run(update)), {
              // A fetched run in one statement; if it fails, update by update (their own retries).
              batch: async (items) => void (await this.applyStatus.runBatch(items.map((item) => item.value))),
            }),
          ],
          producer: this.kafka.producer,
          registry: this.registry,
          logger: this.logger,
        });
        this.consumer = consumer;
        await consumer.start();
        this.logger.info(
          { topic: topic.name, group: this.config.CHAT_STATUS_GROUP },
          'status consumer joined',
        );
        return;
      } catch (error) {
        this.logger.warn(
          { err: error, retryInMs: START_RETRY_MS },
          'status consumer could not start; retrying',
        );
        await this.consumer?.stop().catch(() => undefined);
        this.consumer = undefined;
        await sleep(START_RETRY_MS, undefined, { ref: false });
      }
    }
  }
}
