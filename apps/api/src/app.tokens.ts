/** DI tokens of the clients this app builds once and shares (see clients.module.ts). */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/** The Kafka client, breaker and producer built together by `createGuardedProducer`. */
export const GUARDED_PRODUCER = Symbol('GUARDED_PRODUCER');
export const JWT_VERIFIER = Symbol('JWT_VERIFIER');
export const API_METRICS = Symbol('API_METRICS');
/** The MinIO bucket of chunked uploads (`ObjectStore` of `@fleet/object-store`), created at boot. */
export const OBJECT_STORE = Symbol('OBJECT_STORE');
