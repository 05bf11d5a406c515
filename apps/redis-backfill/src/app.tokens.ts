/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export {
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_BREAKER,
  KAFKA_CLIENT,
  REDIS_CLIENT,
} from '@fleet/service-kit';
export const FALLBACK_QUEUE = Symbol('FALLBACK_QUEUE');
