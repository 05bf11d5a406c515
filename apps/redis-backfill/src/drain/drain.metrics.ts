import { type FallbackQueue } from '@fleet/redis';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a fallback entry went to the dead list (the `reason` label and the reason's prefix). */
export type DeadLetterCode = 'MALFORMED_JSON' | 'SCHEMA_INVALID' | 'REJECTED_BY_BROKER';
const DEAD_LETTER_CODES: readonly DeadLetterCode[] = [
  'MALFORMED_JSON',
  'SCHEMA_INVALID',
  'REJECTED_BY_BROKER',
];

export interface DrainMetrics {
  drained: Counter<'topic'>;
  deadLettered: Counter<'reason'>;
  requeued: Counter;
  active: Gauge;
}

/**
 * The drainer's metrics. The three list lengths are read with `LLEN` at scrape time, so they are
 * right on every replica (standbys included) and even while the broker is down.
 */
export function drainMetrics(registry: Registry, queue: FallbackQueue): DrainMetrics {
  const registers = [registry];
  const lengthGauge = (name: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set(await read());
        } catch {
          // Redis unreachable: no sample rather than a stale one (readiness reports the outage).
          this.reset();
        }
      },
    });
  lengthGauge('redis_fallback_queue_length', 'Records waiting in the Redis fallback list.', () =>
    queue.length(),
  );
  lengthGauge(
    'redis_fallback_processing_length',
    'Records claimed by the active drainer and not yet acknowledged by Kafka.',
    () => queue.processingLength(),
  );
  lengthGauge('redis_fallback_dead_length', 'Entries in the fallback dead list (never sent).', () =>
    queue.deadLength(),
  );
  const deadLettered = new Counter({
    name: 'redis_fallback_dead_lettered_total',
    help: 'Fallback entries moved to the dead list, by reason.',
    labelNames: ['reason'],
    registers,
  });
  // Every reason exported from the start: dashboards and alerts see 0, not "no data".
  for (const reason of DEAD_LETTER_CODES) deadLettered.inc({ reason }, 0);
  return {
    drained: new Counter({
      name: 'redis_fallback_drained_total',
      help: 'Fallback records sent to Kafka and acknowledged, by topic.',
      labelNames: ['topic'],
      registers,
    }),
    deadLettered,
    requeued: new Counter({
      name: 'redis_fallback_requeued_total',
      help: 'Claimed records put back at the head of the queue after a failed send.',
      registers,
    }),
    active: new Gauge({
      name: 'redis_fallback_drainer_active',
      help: '1 while this replica holds the drain lock (the single active drainer), else 0.',
      registers,
    }),
  };
}
