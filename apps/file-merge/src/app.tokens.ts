/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export {
  DATA_SOURCE,
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_CLIENT,
  OBJECT_STORE,
} from '@fleet/service-kit';
