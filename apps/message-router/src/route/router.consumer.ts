import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { chatMessageOutgoing, inNamespace, type OutgoingMessage, groupInNamespace } from '@fleet/contracts';
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
import { ConfirmationsConsumer } from './confirmations.consumer';
import { routerConsumerOptions } from './consumer-options';
import { DeliveryStore } from './delivery.store';
import { RouteMessage } from './route-message.use-case';

/** How often finished deliveries older than the dedup window are purged. */
const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * The consumer group on `chat.message.outgoing.1` (namespaced by `KAFKA_TOPIC_NAMESPACE`): retries
 * through the runtime's `.retry` topic (1 s, 2 s), then `.dlq`. Partitions are keyed by conversation,
 * so one conversation's messages are handled in order; only a message being retried falls behind
 * the later ones of its conversation.
 */
@Injectable()
export class RouterConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: FleetConsumer | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(DeliveryStore) private readonly store: DeliveryStore,
    @Inject(RouteMessage) private readonly routeMessage: RouteMessage,
    @Inject(ConfirmationsConsumer) private readonly confirmations: ConfirmationsConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, logger } = this;
    const topic = inNamespace(chatMessageOutgoing, config.KAFKA_TOPIC_NAMESPACE);
    // The consumer needs its topic and the runtime's companions (auto-create is off); idempotent.
    await provisionTopics(this.kafka, [topic]);
    await this.producer.connect();
    // Confirmations first: a takeover right after the start waits for them.
    await this.confirmations.start();
    this.consumer = new FleetConsumer(this.kafka, {
      groupId: groupInNamespace(config.ROUTER_CONSUMER_GROUP, config.KAFKA_TOPIC_NAMESPACE),
      subscriptions: [
        subscribe<OutgoingMessage>(topic, (message, context) => this.routeMessage.handle(message, context), {
          // Keyed by conversation: order per conversation holds, conversations run side by side.
          keyConcurrency: config.ROUTER_KEY_CONCURRENCY,
        }),
      ],
      ...routerConsumerOptions(config, { producer: this.producer, registry: this.registry, logger }),
    });
    await this.consumer.start();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
    logger.info(
      { topic: topic.name, group: config.ROUTER_CONSUMER_GROUP, owner: this.store.owner },
      'message router consuming',
    );
  }

  /**
   * SIGTERM: takeovers stop waiting for confirmations (handed back), the consumer stops fetching,
   * finishes the in-flight messages, commits and leaves the group; then the confirmations group,
   * which a last attempt still waiting for its confirmation needs until the end.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.purgeTimer);
    this.routeMessage.stopWaiting();
    await this.consumer?.stop();
    await this.confirmations.stop();
  }

  private async purge(): Promise<void> {
    try {
      let deleted = 0;
      for (let batch = 0; batch < 50; batch++) {
        const n = await this.store.purgeFinished(this.config.ROUTER_DEDUP_TTL_SECONDS);
        deleted += n;
        if (n === 0) break;
      }
      if (deleted > 0) this.logger.info({ deleted }, 'purged deliveries older than the dedup window');
    } catch (error) {
      this.logger.warn({ err: error }, 'purging old deliveries failed; next round retries');
    }
  }
}
