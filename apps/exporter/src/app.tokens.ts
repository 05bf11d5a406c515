/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export { DATA_SOURCE, FLEET_PRODUCER, KAFKA_CLIENT, OBJECT_STORE, REDIS_CLIENT } from '@fleet/service-kit';
export const MANIFEST_SIGNER = Symbol('MANIFEST_SIGNER');
export const EXPORTER_METRICS = Symbol('EXPORTER_METRICS');
export const JOB_METRICS = Symbol('JOB_METRICS');
