/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export { DATA_SOURCE, GUARDED_PRODUCER, OBJECT_STORE, REDIS_CLIENT } from '@fleet/service-kit';
export const JWT_VERIFIER = Symbol('JWT_VERIFIER');
export const API_METRICS = Symbol('API_METRICS');
