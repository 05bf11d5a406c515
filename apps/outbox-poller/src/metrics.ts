import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type OutboxStats } from '@fleet/outbox';

export interface RelayMetrics {
  published: Counter<'topic'>;
  publishDuration: Histogram;
  failures: Counter<'kind'>;
  parkedTotal: Counter<'topic'>;
}

/**
 * The poller's metrics. The backlog gauges are read from the database at scrape time (one query
 * for all three), so every replica reports the same truth and a dead poller cannot leave a stale
 * "0 pending" behind. Alert on `outbox_oldest_pending_age_seconds` and `outbox_parked_events > 0`.
 */
export function relayMetrics(registry: Registry, readStats: () => Promise<OutboxStats>): RelayMetrics {
  const registers = [registry];
  const oldest = new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox event not yet published (0 when none).',
    registers: [],
  });
  const parked = new Gauge({
    name: 'outbox_parked_events',
    help: 'Outbox events that ran out of attempts and wait for a replay.',
    registers: [],
  });
  // Registered first: its collect() reads the stats and fills the two gauges that follow it.
  new Gauge({
    name: 'outbox_pending_events',
    help: 'Outbox events not yet published (parked ones excluded).',
    registers,
    async collect() {
      try {
        const stats = await readStats();
        this.set(stats.pending);
        oldest.set(stats.oldestPendingAgeSeconds);
        parked.set(stats.parked);
      } catch {
        // Database unreachable: keep the last values; readiness reports the outage.
      }
    },
  });
  registry.registerMetric(oldest);
  registry.registerMetric(parked);
  const failures = new Counter({
    name: 'outbox_publish_failures_total',
    help: 'Failed publish attempts: unavailable (broker down, batch retried later) or rejected (per event, backoff then park).',
    labelNames: ['kind'],
    registers,
  });
  // Both kinds exported from the start: dashboards and alerts see 0, not "no data".
  for (const kind of ['unavailable', 'rejected']) failures.inc({ kind }, 0);
  return {
    published: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox events published to Kafka and marked published.',
      labelNames: ['topic'],
      registers,
    }),
    publishDuration: new Histogram({
      name: 'outbox_publish_duration_seconds',
      help: 'Time for the broker to take one claimed batch: sent until acknowledged, rejected rows isolated.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    failures,
    parkedTotal: new Counter({
      name: 'outbox_events_parked_total',
      help: 'Outbox events parked after their last attempt.',
      labelNames: ['topic'],
      registers,
    }),
  };
}
