/** The charts' {@link PrometheusClient} on `PROMETHEUS_URL`, or null when it is unset. */
export const PROMETHEUS = Symbol('PROMETHEUS');
