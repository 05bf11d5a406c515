import { Counter, Gauge, type Registry } from 'prom-client';
import { ERROR_KINDS, type ErrorKind } from './gc.errors';

/** The metrics of one run; what `report/` prints and pushes at exit. */
export interface GcMetrics {
  cleaned: Counter;
  bytesReclaimed: Counter;
  errors: Counter<'kind'>;
  runDuration: Gauge;
  /** Sets the last-success gauge, which only a run that finished its backlog exports. */
  markSuccess(at: Date): void;
}

/**
 * Counters count this run only: the process is the run. In the Pushgateway each push replaces the
 * previous run's values (see the README for how to query them).
 */
export function gcMetrics(registry: Registry): GcMetrics {
  const registers = [registry];
  const errors = new Counter({
    name: 'upload_gc_errors_total',
    help: 'Failed runs by what failed: object_store, database, internal (the run stops at the first).',
    labelNames: ['kind'],
    registers,
  });
  // Every kind exported from the start, so `upload_gc_errors_total > 0` alerts see a series.
  for (const kind of ERROR_KINDS) errors.inc({ kind } satisfies Record<'kind', ErrorKind>, 0);
  // Not registered until a run succeeds: a failed run must not overwrite the last success in the
  // Pushgateway (it is pushed with POST, which keeps the metrics a push does not carry).
  const lastSuccessName = 'upload_gc_last_success_timestamp_seconds';
  const lastSuccess = new Gauge({
    name: lastSuccessName,
    help: 'Unix time at which the last run finished with every abandoned upload cleaned.',
    registers: [],
  });
  return {
    cleaned: new Counter({
      name: 'uploads_cleaned_total',
      help: 'Abandoned uploads whose chunks were deleted and which were marked FAILED, this run.',
      registers,
    }),
    bytesReclaimed: new Counter({
      name: 'upload_gc_bytes_reclaimed_total',
      help: 'Bytes of chunk objects deleted this run (recorded chunks and leftover attempts).',
      registers,
    }),
    errors,
    runDuration: new Gauge({
      name: 'upload_gc_run_duration_seconds',
      help: 'Wall time of this run, from start to the metrics report.',
      registers,
    }),
    markSuccess(at: Date) {
      lastSuccess.set(at.getTime() / 1000);
      if (!registry.getSingleMetric(lastSuccessName)) registry.registerMetric(lastSuccess);
    },
  };
}
