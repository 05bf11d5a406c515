export {
  runService,
  type RunningService,
  type RunServiceOptions,
  type ServiceDefinition,
} from './run-service';
export {
  runHttpService,
  type HttpServiceContext,
  type HttpServiceDefinition,
  type RunningHttpService,
} from './run-http-service';
export { NestPinoLogger } from './nest-logger';
export { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from './tokens';
export {
  installGracefulShutdown,
  type GracefulShutdownOptions,
  type ShutdownLogger,
  type ShutdownStep,
} from './shutdown';
export {
  createGuardedProducer,
  kafkaProducerEnv,
  type GuardedProducer,
  type KafkaProducerEnv,
} from './kafka-producer';
export {
  DATA_SOURCE,
  FLEET_PRODUCER,
  GUARDED_PRODUCER,
  KAFKA_BREAKER,
  KAFKA_CLIENT,
  OBJECT_STORE,
  REDIS_CLIENT,
  fleetClientProviders,
  type ClientsConfig,
  type FleetClientsOptions,
} from './clients';
export { breakerControlKeysOf } from './breaker-control';
