import { Counter, Histogram, type Registry } from 'prom-client';
import { type PermanentCode } from './merge.errors';

/**
 * How one handling of a merge request ended:
 * - `completed`: this run composed, verified and marked the upload COMPLETED;
 * - `already_completed`: it was COMPLETED already (a redelivery or duplicate request): leftover
 *   chunks cleaned up, nothing else;
 * - `already_failed`: it was FAILED: nothing to do;
 * - the lower-cased {@link PermanentCode}s: refused, to the DLQ (FAILED where the code says so);
 * - `transient`: PostgreSQL or MinIO failed, or the deadline passed: retried, then the DLQ.
 */
export type MergeOutcome =
  'completed' | 'already_completed' | 'already_failed' | Lowercase<PermanentCode> | 'transient';

export interface MergeMetrics {
  merges: Counter<'outcome'>;
  duration: Histogram<'outcome'>;
  /** Bytes of the files this replica marked COMPLETED. */
  bytes: Counter;
}

export function mergeMetrics(registry: Registry): MergeMetrics {
  const registers = [registry];
  return {
    merges: new Counter({
      name: 'file_merges_total',
      help: 'Merge requests handled, by outcome (completed, already_completed, already_failed, a refusal code, transient).',
      labelNames: ['outcome'],
      registers,
    }),
    duration: new Histogram({
      name: 'file_merge_duration_seconds',
      help: 'Time to handle one merge request (compose, size check, sha256 read, status update, cleanup), by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    bytes: new Counter({
      name: 'file_merge_bytes_total',
      help: 'Bytes of the files merged and marked COMPLETED by this replica.',
      registers,
    }),
  };
}
