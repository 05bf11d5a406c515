import { Inject, Injectable } from '@nestjs/common';
import { chatMessageStatus, inNamespace, type MessageStatusUpdate, groupInNamespace } from '@fleet/contracts';
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
import { ConfirmDelivery } from './confirm-delivery.use-case';
import { routerConsumerOptions } from './consumer-options';

/**
 * The second consumer group (`ROUTER_CONFIRMATIONS_GROUP`) on `chat.message.status.1`: every status
 * record, the api's webhook statuses among them, through {@link ConfirmDelivery}. Started before
 * and stopped after the routing consumer (by {@link RouterConsumer}), so confirmations keep flowing
 * while in-flight takeovers wait for theirs. A new group reads the topic from its beginning once:
 * the records of finished deliveries each cost one primary-key update that matches nothing.
 */
@Injectable()
export class ConfirmationsConsumer {
  private consumer: FleetConsumer | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(ConfirmDelivery) private readonly confirmDelivery: ConfirmDelivery,
  ) {}

  /** The producer must be connected (it writes this group's `.retry` and `.dlq` records). */
  async start(): Promise<void> {
    const { config } = this;
    const topic = inNamespace(chatMessageStatus, config.KAFKA_TOPIC_NAMESPACE);
    // Written by the router itself (through the outbox) and by the api; idempotent.
    await provisionTopics(this.kafka, [topic]);
    this.consumer = new FleetConsumer(this.kafka, {
      groupId: groupInNamespace(config.ROUTER_CONFIRMATIONS_GROUP, config.KAFKA_TOPIC_NAMESPACE),
      subscriptions: [
        subscribe<MessageStatusUpdate>(
          topic,
          async (update) => {
            await this.confirmDelivery.handle(update);
          },
          // A fetched run with one Redis round trip; if it fails, record by record.
          {
            batch: async (items) => void (await this.confirmDelivery.handleBatch(items.map((i) => i.value))),
          },
        ),
      ],
      ...routerConsumerOptions(config, {
        producer: this.producer,
        registry: this.registry,
        logger: this.logger,
      }),
    });
    await this.consumer.start();
    this.logger.info(
      { topic: topic.name, group: config.ROUTER_CONFIRMATIONS_GROUP },
      'consuming channel confirmations',
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
