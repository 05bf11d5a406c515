import { Global, Module } from '@nestjs/common';
import { createInstagramConnector, createWhatsAppConnector, type ChannelConnector } from '@fleet/channels';
import { type DeliveryChannel } from '@fleet/contracts';
import { fleetClientProviders, SERVICE_CONFIG } from '@fleet/service-kit';
import { CHANNEL_CONNECTORS } from './app.tokens';
import { type Config } from './config';
import { ROUTER_MIGRATIONS } from './db/migrations';

const clients = fleetClientProviders<Config>({
  database: (config) => ({
    // Listed so `migrate status` and the data source agree; applied only by migrate.js.
    migrations: [...ROUTER_MIGRATIONS],
    // One statement at a time per message in flight: ROUTER_KEY_CONCURRENCY per concurrently
    // consumed partition, one per partition of the retry consumer and of the confirmations group.
    poolSize: config.ROUTER_PARTITIONS_CONCURRENCY * (config.ROUTER_KEY_CONCURRENCY + 2) + 2,
  }),
  redis: true,
});

/**
 * PostgreSQL (deliveries + outbox), Redis (dedup fast path), the Kafka client with the guarded
 * producer the consumer writes its retry and DLQ records with (the service kit's shared clients),
 * and one connector per channel.
 */
@Global()
@Module({
  providers: [
    ...clients.providers,
    {
      provide: CHANNEL_CONNECTORS,
      inject: [SERVICE_CONFIG],
      useFactory: (config: Config): Record<DeliveryChannel, ChannelConnector> => ({
        whatsapp: createWhatsAppConnector({
          baseUrl: config.WHATSAPP_API_BASE_URL,
          apiVersion: config.WHATSAPP_API_VERSION,
          phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID,
          accessToken: config.WHATSAPP_ACCESS_TOKEN,
          timeoutMs: config.CHANNEL_TIMEOUT_MS,
        }),
        instagram: createInstagramConnector({
          baseUrl: config.INSTAGRAM_API_BASE_URL,
          apiVersion: config.INSTAGRAM_API_VERSION,
          accessToken: config.INSTAGRAM_ACCESS_TOKEN,
          timeoutMs: config.CHANNEL_TIMEOUT_MS,
        }),
      }),
    },
  ],
  exports: [...clients.tokens, CHANNEL_CONNECTORS],
})
export class ClientsModule {}
