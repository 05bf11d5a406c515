export { HealthServer, type HealthServerOptions, type ReadinessCheck } from './health-server';
export {
  DEFAULT_REDACT_PATHS,
  createLogger,
  type LogDestination,
  type LogFn,
  type LogLevel,
  type Logger,
  type LoggerOptions,
} from './logger';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics';
export { ObservabilityError, type ObservabilityErrorCode } from './observability.errors';
export { startTracing, type TracingHandle, type TracingOptions } from './tracing';
