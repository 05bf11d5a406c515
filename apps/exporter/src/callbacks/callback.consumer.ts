import { Inject, Injectable } from '@nestjs/common';
import {
  type ExportCallbackRequest,
  exportCallbackRequested,
  groupInNamespace,
  inNamespace,
} from '@fleet/contracts';
import {
  FleetConsumer,
  NonRetriableError,
  provisionTopics,
  RetriableError,
  subscribe,
  type FleetProducer,
  type KafkaClient,
  type MessageContext,
} from '@fleet/kafka';
import { type DataSource, sqlOf } from '@fleet/db';
import { type ExportStore } from '@fleet/exports';
import { type Logger } from '@fleet/observability';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type AllowlistEntry, deliverCallback, parseAllowlist } from '@fleet/webhooks';
import { type Registry } from 'prom-client';
import { DATA_SOURCE, EXPORTER_METRICS, FLEET_PRODUCER, KAFKA_CLIENT } from '../app.tokens';
import { EXPORT_STORE } from '../jobs/jobs.tokens';
import { type Config } from '../config';
import { type ExporterMetrics } from '../metrics';

/**
 * Delivers export callbacks: the consumer group `EXPORTER_CALLBACK_GROUP` on
 * `export.callback.requested.1`. Each delivery re-checks the URL against the SSRF rule (DNS may
 * have changed since the api accepted it) and POSTs the event signed with `WORKER_CALLBACK_SECRET`
 * (Standard Webhooks headers, a fresh timestamp per delivery, the same `webhook-id`). 2xx: done;
 * 408/425/429/5xx, timeouts and network errors: retried through the runtime's `.retry` topic
 * (`EXPORT_CALLBACK_MAX_ATTEMPTS` deliveries, backoff doubling from
 * `EXPORT_CALLBACK_INITIAL_BACKOFF_MS`), then `.dlq`; 3xx, other 4xx and refused URLs: `.dlq` at
 * once, with the reason. A callback event a receiver already took (`export_callback_deliveries`)
 * is not POSTed again when its request comes back (a replayed range, a rebalance): outcome
 * `duplicate`.
 */
@Injectable()
export class CallbackConsumer {
  private consumer: FleetConsumer | undefined;
  private readonly allowlist: AllowlistEntry[];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(EXPORTER_METRICS) private readonly metrics: ExporterMetrics,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_STORE) private readonly exports: ExportStore,
  ) {
    this.allowlist = parseAllowlist(config.EXPORT_CALLBACK_ALLOWLIST);
  }

  async start(): Promise<void> {
    const { config } = this;
    const topic = inNamespace(exportCallbackRequested, config.KAFKA_TOPIC_NAMESPACE);
    await provisionTopics(this.kafka, [topic]);
    this.consumer = new FleetConsumer(this.kafka, {
      groupId: groupInNamespace(config.EXPORTER_CALLBACK_GROUP, config.KAFKA_TOPIC_NAMESPACE),
      subscriptions: [
        subscribe<ExportCallbackRequest>(topic, (request, context) => this.deliver(request, context)),
      ],
      producer: this.producer,
      registry: this.registry,
      logger: this.logger,
      retry: {
        maxAttempts: config.EXPORT_CALLBACK_MAX_ATTEMPTS,
        initialBackoffMs: config.EXPORT_CALLBACK_INITIAL_BACKOFF_MS,
        backoffMultiplier: 2,
      },
      // Deliveries wait on receivers: several partitions at once so one slow receiver holds few.
      partitionsConsumedConcurrently: 4,
      sessionTimeoutMs: config.EXPORTER_SESSION_TIMEOUT_MS,
    });
    await this.consumer.start();
    this.logger.info(
      { topic: topic.name, group: config.EXPORTER_CALLBACK_GROUP },
      'delivering export callbacks',
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async deliver(request: ExportCallbackRequest, context: MessageContext): Promise<void> {
    const { event } = request;
    const log = { exportId: request.exportId, eventId: event.id, type: event.type, attempt: context.attempt };
    const sql = sqlOf(this.dataSource.manager);
    if (await this.exports.callbackDelivered(sql, event.id)) {
      this.metrics.callbacks.inc({ type: event.type, outcome: 'duplicate' });
      this.logger.info(log, 'callback already delivered; not sent again');
      return;
    }
    const outcome = await deliverCallback({
      url: request.url,
      id: event.id,
      body: JSON.stringify(event),
      secret: this.config.WORKER_CALLBACK_SECRET,
      allowlist: this.allowlist,
      timeoutMs: this.config.EXPORT_CALLBACK_TIMEOUT_MS,
      userAgent: 'fleet-exporter',
    });
    this.metrics.callbacks.inc({ type: event.type, outcome: outcome.outcome });
    switch (outcome.outcome) {
      case 'delivered':
        await this.exports.recordCallbackDelivered(sql, {
          eventId: event.id,
          exportId: request.exportId,
          status: outcome.status,
        });
        this.logger.info({ ...log, status: outcome.status, ms: outcome.ms }, 'callback delivered');
        return;
      case 'retriable':
        this.logger.warn(
          { ...log, status: outcome.status, reason: outcome.reason },
          'callback delivery failed; retrying',
        );
        throw new RetriableError(`callback to ${request.url}: ${outcome.reason}`, 'CALLBACK_FAILED');
      case 'permanent':
        this.logger.warn(
          { ...log, status: outcome.status, reason: outcome.reason },
          'callback refused; dead-lettered',
        );
        throw new NonRetriableError(`callback to ${request.url}: ${outcome.reason}`, 'CALLBACK_REFUSED');
    }
  }
}
