import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { type ChannelConnector } from '@fleet/channels';
import { chatMessageStatus, inNamespace, type DeliveryChannel } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { type Registry } from 'prom-client';
import { CHANNEL_CONNECTORS, DATA_SOURCE, REDIS_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { ConfirmDelivery } from './confirm-delivery.use-case';
import { ConfirmationsConsumer } from './confirmations.consumer';
import { DedupCache } from './dedup.cache';
import { DeliveryStore } from './delivery.store';
import { RouteMessage } from './route-message.use-case';
import { routeMetrics, type RouteMetrics } from './route.metrics';
import { ROUTE_METRICS } from './route.tokens';
import { RouterConsumer } from './router.consumer';

/**
 * The one job: route outgoing chat messages to their channels and report their statuses, with the
 * channels' webhook confirmations (a second consumer group) closing the crash-mid-call window.
 */
@Module({
  providers: [
    {
      provide: ROUTE_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry) => routeMetrics(registry),
    },
    {
      provide: DeliveryStore,
      inject: [DATA_SOURCE, SERVICE_CONFIG],
      useFactory: (dataSource: DataSource, config: Config) =>
        new DeliveryStore(
          dataSource,
          `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
          config.ROUTER_SEND_LEASE_MS,
          inNamespace(chatMessageStatus, config.KAFKA_TOPIC_NAMESPACE),
        ),
    },
    {
      provide: DedupCache,
      inject: [REDIS_CLIENT, SERVICE_CONFIG, SERVICE_LOGGER, ROUTE_METRICS],
      useFactory: (redis: RedisClient, config: Config, logger: Logger, metrics: RouteMetrics) =>
        new DedupCache(redis, config.ROUTER_DEDUP_TTL_SECONDS, logger, metrics),
    },
    {
      provide: RouteMessage,
      inject: [CHANNEL_CONNECTORS, DeliveryStore, DedupCache, ROUTE_METRICS, SERVICE_LOGGER, SERVICE_CONFIG],
      useFactory: (
        connectors: Record<DeliveryChannel, ChannelConnector>,
        store: DeliveryStore,
        cache: DedupCache,
        metrics: RouteMetrics,
        logger: Logger,
        config: Config,
      ) =>
        new RouteMessage({
          connectors,
          store,
          cache,
          metrics,
          logger,
          maxAttempts: config.ROUTER_MAX_ATTEMPTS,
          confirmationGraceMs: config.ROUTER_CONFIRMATION_GRACE_MS,
        }),
    },
    {
      provide: ConfirmDelivery,
      inject: [DeliveryStore, DedupCache, ROUTE_METRICS, SERVICE_LOGGER],
      useFactory: (store: DeliveryStore, cache: DedupCache, metrics: RouteMetrics, logger: Logger) =>
        new ConfirmDelivery(store, cache, metrics, logger),
    },
    ConfirmationsConsumer,
    RouterConsumer,
  ],
})
export class RouteModule {}
