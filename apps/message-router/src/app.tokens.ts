/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export {
  DATA_SOURCE,
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_CLIENT,
  REDIS_CLIENT,
} from '@fleet/service-kit';
/** `Record<DeliveryChannel, ChannelConnector>`. */
export const CHANNEL_CONNECTORS = Symbol('CHANNEL_CONNECTORS');
