/** What the simulated GPU was doing during an interval. */
export type BusyKind = 'load' | 'generate' | 'hang';

/**
 * One stretch of time the simulated GPU was occupied, in epoch milliseconds (fractional), so other
 * processes (a benchmark) can compare them with their own `Date.now()`-based timestamps.
 */
export interface BusyInterval {
  /** The call (`FakeLlmCall.seq`) it served. */
  seq: number;
  kind: BusyKind;
  startMs: number;
  /** Undefined while it is still running. */
  endMs: number | undefined;
}

/**
 * Milliseconds of `[fromMs, toMs]` covered by `intervals` (still-running ones count up to `nowMs`).
 * Intervals never overlap on a one-GPU fake, but overlaps are merged anyway so the figure can
 * never exceed the window.
 */
export function busyMsWithin(
  intervals: readonly BusyInterval[],
  fromMs: number,
  toMs: number,
  nowMs: number,
): number {
  const clipped = intervals
    .map((i) => [Math.max(i.startMs, fromMs), Math.min(i.endMs ?? nowMs, toMs)] as const)
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cursor = -Infinity;
  for (const [start, end] of clipped) {
    const from = Math.max(start, cursor);
    if (end > from) total += end - from;
    cursor = Math.max(cursor, end);
  }
  return total;
}

/** Epoch milliseconds with sub-millisecond precision, monotonic within the process. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
