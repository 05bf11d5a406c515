/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export { DATA_SOURCE, FLEET_PRODUCER, KAFKA_CLIENT, OBJECT_STORE, REDIS_CLIENT } from '@fleet/service-kit';
export const LLM_CLIENT = Symbol('LLM_CLIENT');
export const GENERATION_METRICS = Symbol('GENERATION_METRICS');
