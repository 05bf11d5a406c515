/** DI tokens the service kit provides to every app module (global). */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
