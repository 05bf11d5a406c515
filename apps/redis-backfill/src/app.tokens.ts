/** DI tokens of the clients this app builds once and shares (see clients.module.ts). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const KAFKA_BREAKER = Symbol('KAFKA_BREAKER');
export const FLEET_PRODUCER = Symbol('FLEET_PRODUCER');
export const FALLBACK_QUEUE = Symbol('FALLBACK_QUEUE');
/** The Kafka client, breaker and producer built together by `createGuardedProducer`. */
export const GUARDED_PRODUCER = Symbol('GUARDED_PRODUCER');
