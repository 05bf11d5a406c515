import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The exporter's own metrics, beside the job worker's (`exporter_jobs_total`, …) and the Kafka
 * runtime's (`kafka_consumer_lag{group="exporter"}`: the queue depth HPA/KEDA scale on).
 */
export interface ExporterMetrics {
  /** One per engine archive: `completed`, or `failed` (the attempt failed while building it). */
  bundles: Counter<'engine' | 'outcome'>;
  bundleBytes: Counter<'engine'>;
  bundleDuration: Histogram<'engine'>;
  /** `delivered`, `retriable` (retried later), `permanent` (refused: 4xx, SSRF), `expired` (DLQ). */
  callbacks: Counter<'type' | 'outcome'>;
}

export function exporterMetrics(registry: Registry): ExporterMetrics {
  const registers = [registry];
  return {
    bundles: new Counter({
      name: 'exporter_bundles_total',
      help: 'Engine archives built, by engine and outcome (completed, failed).',
      labelNames: ['engine', 'outcome'],
      registers,
    }),
    bundleBytes: new Counter({
      name: 'exporter_bundle_bytes_total',
      help: 'Bytes of engine archives written to object storage (completed archives), by engine.',
      labelNames: ['engine'],
      registers,
    }),
    bundleDuration: new Histogram({
      name: 'exporter_bundle_duration_seconds',
      help: 'Time to build and upload one engine archive, by engine.',
      labelNames: ['engine'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    }),
    callbacks: new Counter({
      name: 'exporter_callback_deliveries_total',
      help: 'Callback webhook deliveries, by event type and outcome (delivered, retriable, permanent, duplicate: taken before, not sent again).',
      labelNames: ['type', 'outcome'],
      registers,
    }),
  };
}
