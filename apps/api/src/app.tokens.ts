/** DI tokens of this app; the shared clients' tokens come from the service kit (see clients.module.ts). */
export { DATA_SOURCE, GUARDED_PRODUCER, REDIS_CLIENT } from '@fleet/service-kit';
export const JWT_VERIFIER = Symbol('JWT_VERIFIER');
export const API_METRICS = Symbol('API_METRICS');
/** The MinIO bucket of chunked uploads (`ObjectStore` of `@fleet/object-store`), created at boot. */
export const OBJECT_STORE = Symbol('OBJECT_STORE');
