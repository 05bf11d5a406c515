import { collectDefaultMetrics as collectProcessMetrics, Registry } from 'prom-client';

const MISNAMED_PROCESS_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

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
  if (collectDefaultMetrics) {
    collectProcessMetrics({ register: registry });
    // Gauges named like counters (`promtool check metrics` refuses them); the same numbers stay
    // exported by type as nodejs_active_handles, _requests and _resources.
    for (const name of MISNAMED_PROCESS_GAUGES) registry.removeSingleMetric(name);
  }
  return registry;
}
