import { collectDefaultMetrics as collectProcessMetrics, Registry } from 'prom-client';

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Value of the `service` label on every metric of the registry. */
  serviceName: string;
  /**
   * Collect prom-client's process metrics (CPU, memory, event-loop lag, GC, handles).
   * @defaultValue true
   */
  collectDefaultMetrics?: boolean;
}

/**
 * A registry per service rather than prom-client's global one, so tests and several components in
 * one process never collide on metric names.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const { serviceName, collectDefaultMetrics = true } = options;
  const registry = new Registry();
  registry.setDefaultLabels({ service: serviceName });
  if (collectDefaultMetrics) collectProcessMetrics({ register: registry });
  return registry;
}
