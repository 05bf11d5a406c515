import { Counter, type Registry } from 'prom-client';

export interface OpsMetrics {
  indexed: Counter<'topic' | 'status'>;
  redriven: Counter<'topic' | 'group'>;
  discarded: Counter<'topic'>;
}

const cache = new WeakMap<Registry, OpsMetrics>();

/** The operators' counters, once per registry. */
export function opsMetrics(registry: Registry): OpsMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: OpsMetrics = {
    indexed: new Counter({
      name: 'ops_dead_letters_indexed_total',
      help: 'Dead letters indexed for operators, by original topic and status on arrival (DEAD, or PARKED past the redrive cap).',
      labelNames: ['topic', 'status'],
      registers,
    }),
    redriven: new Counter({
      name: 'ops_dead_letters_redriven_total',
      help: "Dead letters sent back to their consumer group's retry path by an operator.",
      labelNames: ['topic', 'group'],
      registers,
    }),
    discarded: new Counter({
      name: 'ops_dead_letters_discarded_total',
      help: 'Dead letters an operator discarded (with a reason, audited).',
      labelNames: ['topic'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
