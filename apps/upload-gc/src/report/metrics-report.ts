import { Pushgateway, type Registry } from 'prom-client';

/** How long a push may take before it counts as failed (a CronJob must not hang on a dead gateway). */
export const PUSH_TIMEOUT_MS = 10_000;

/** The run's metrics in Prometheus text format: the one thing this command writes to stdout. */
export async function printMetrics(
  registry: Registry,
  write: (text: string) => Promise<void>,
): Promise<void> {
  await write(await registry.metrics());
}

/**
 * Pushes the run's metrics to a Prometheus Pushgateway under `/metrics/job/<jobName>`, with POST:
 * metrics this push carries replace the group's previous ones, the others stay. So a failed run,
 * which does not carry `upload_gc_last_success_timestamp_seconds`, leaves the last success in place.
 */
export async function pushMetrics(
  registry: Registry,
  options: { url: string; jobName: string; timeoutMs?: number },
): Promise<void> {
  const gateway = new Pushgateway(
    options.url,
    { timeout: options.timeoutMs ?? PUSH_TIMEOUT_MS, headers: { 'Content-Type': registry.contentType } },
    registry,
  );
  await gateway.pushAdd({ jobName: options.jobName });
}
