/** How failed messages are retried. */
export interface RetryPolicy {
  /**
   * Total deliveries a message gets, the first one included; after the last failure it goes to the DLQ.
   * @defaultValue 3
   */
  maxAttempts: number;
  /** Delay before the first retry. @defaultValue 1000 */
  initialBackoffMs: number;
  /** Each further retry waits this many times longer. @defaultValue 2 */
  backoffMultiplier: number;
  /** Upper bound of any one delay. @defaultValue 60000 */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 1_000,
  backoffMultiplier: 2,
  maxBackoffMs: 60_000,
});

/**
 * Delay before delivery number `nextAttempt` (2 = the first retry): 1 s, 2 s, 4 s … with the
 * defaults. Deterministic on purpose: retries of one message are spread by time already, and
 * operators reading a `.retry` record can predict when it runs.
 */
export function backoffMs(policy: RetryPolicy, nextAttempt: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.backoffMultiplier ** exponent);
}
