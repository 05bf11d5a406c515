import { type FleetConsumerOptions } from '@fleet/kafka';
import { type Config } from '../config';

/**
 * What both of the router's consumer groups (routing and confirmations) share: the retry policy
 * (`ROUTER_MAX_ATTEMPTS`, doubling from `ROUTER_RETRY_INITIAL_BACKOFF_MS`), partition concurrency
 * and session timeout.
 */
export function routerConsumerOptions(
  config: Config,
  deps: Pick<FleetConsumerOptions, 'producer' | 'registry' | 'logger'>,
): Omit<FleetConsumerOptions, 'groupId' | 'subscriptions'> {
  return {
    ...deps,
    retry: {
      maxAttempts: config.ROUTER_MAX_ATTEMPTS,
      initialBackoffMs: config.ROUTER_RETRY_INITIAL_BACKOFF_MS,
      backoffMultiplier: 2,
    },
    partitionsConsumedConcurrently: config.ROUTER_PARTITIONS_CONCURRENCY,
    sessionTimeoutMs: config.ROUTER_SESSION_TIMEOUT_MS,
  };
}
