/** DI tokens of the clients this app builds once and shares (see clients.module.ts). */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const OBJECT_STORE = Symbol('OBJECT_STORE');
/** The Kafka client, breaker and producer built together by `createGuardedProducer`. */
export const GUARDED_PRODUCER = Symbol('GUARDED_PRODUCER');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const FLEET_PRODUCER = Symbol('FLEET_PRODUCER');
