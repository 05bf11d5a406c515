import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The runtime's metrics. Created once per registry: several consumers in one process share them
 * and tell themselves apart by the `group` and `topic` labels.
 */
export interface KafkaMetrics {
  consumed: Counter<'topic' | 'group'>;
  processed: Counter<'topic' | 'group'>;
  failed: Counter<'topic' | 'group' | 'outcome'>;
  retried: Counter<'topic' | 'group'>;
  deadLettered: Counter<'topic' | 'group' | 'reason'>;
  handlerDuration: Histogram<'topic' | 'group'>;
  lag: Gauge<'topic' | 'group' | 'partition'>;
  rebalances: Counter<'group'>;
  produced: Counter<'topic'>;
  queuedToFallback: Counter<'topic'>;
}

const cache = new WeakMap<Registry, KafkaMetrics>();

export function kafkaMetrics(registry: Registry): KafkaMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: KafkaMetrics = {
    consumed: new Counter({
      name: 'kafka_messages_consumed_total',
      help: 'Messages fetched and handed to the runtime, retries included.',
      labelNames: ['topic', 'group'],
      registers,
    }),
    processed: new Counter({
      name: 'kafka_messages_processed_total',
      help: 'Messages whose handler succeeded.',
      labelNames: ['topic', 'group'],
      registers,
    }),
    failed: new Counter({
      name: 'kafka_messages_failed_total',
      help: 'Handler failures, by what the runtime did next (retry, dead-letter, crash).',
      labelNames: ['topic', 'group', 'outcome'],
      registers,
    }),
    retried: new Counter({
      name: 'kafka_messages_retried_total',
      help: 'Messages scheduled for another attempt on the retry topic.',
      labelNames: ['topic', 'group'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'kafka_messages_dead_lettered_total',
      help: 'Messages written to the dead-letter topic, by reason.',
      labelNames: ['topic', 'group', 'reason'],
      registers,
    }),
    handlerDuration: new Histogram({
      name: 'kafka_handler_duration_seconds',
      help: 'Time spent in the message handler.',
      labelNames: ['topic', 'group'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    lag: new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Messages between the last handled offset and the high watermark, per partition.',
      labelNames: ['topic', 'group', 'partition'],
      registers,
    }),
    rebalances: new Counter({
      name: 'kafka_consumer_group_joins_total',
      help: 'Times this consumer joined its group (1 per start; more means rebalances).',
      labelNames: ['group'],
      registers,
    }),
    produced: new Counter({
      name: 'kafka_messages_produced_total',
      help: 'Messages acknowledged by the broker.',
      labelNames: ['topic'],
      registers,
    }),
    queuedToFallback: new Counter({
      name: 'kafka_messages_queued_to_fallback_total',
      help: 'Messages parked in the fallback queue because the broker was unavailable.',
      labelNames: ['topic'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
