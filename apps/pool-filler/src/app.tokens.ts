/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export { DATA_SOURCE, FLEET_PRODUCER, KAFKA_CLIENT, REDIS_CLIENT } from '@fleet/service-kit';
export const LLM_CLIENT = Symbol('LLM_CLIENT');
export const WORKER_METRICS = Symbol('WORKER_METRICS');
export const POOL_METRICS = Symbol('POOL_METRICS');
export const JOB_STORE = Symbol('JOB_STORE');
export const POOL_STORE = Symbol('POOL_STORE');
