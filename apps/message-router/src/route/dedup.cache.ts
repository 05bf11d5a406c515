import { type DeliveryChannel } from '@fleet/contracts';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { type RouteMetrics } from './route.metrics';

export type FinalState = 'SENT' | 'FAILED';
const FINAL_STATES: readonly FinalState[] = ['SENT', 'FAILED'];

/**
 * The Redis fast path of dedup: `router:delivery:<messageId>:<channel>` holds `SENT` or `FAILED`
 * for `ROUTER_DEDUP_TTL_SECONDS` once a delivery is final in the database, so a replay or a
 * redelivery is skipped without touching PostgreSQL. It is only ever written after the database
 * committed the outcome: a key in Redis always means "final", never "in progress", so losing Redis
 * (or a key) costs a database round trip, never a message. The database stays the arbiter.
 */
export class DedupCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
    private readonly metrics: RouteMetrics,
  ) {}

  static key(messageId: string, channel: DeliveryChannel): string {
    return `router:delivery:${messageId}:${channel}`;
  }

  /**
   * The channels of `messageId` known to be final (in one of `states`); empty when Redis cannot
   * answer.
   */
  async finished(
    messageId: string,
    channels: readonly DeliveryChannel[],
    states: readonly FinalState[] = FINAL_STATES,
  ): Promise<Set<DeliveryChannel>> {
    const done = await this.finishedMany(
      channels.map((channel) => ({ messageId, channel })),
      states,
    );
    return new Set(channels.filter((_, i) => done[i]));
  }

  /**
   * Which of `deliveries` are known to be final, in one round trip; all false when Redis cannot
   * answer (the database decides alone).
   */
  async finishedMany(
    deliveries: ReadonlyArray<{ messageId: string; channel: DeliveryChannel }>,
    states: readonly FinalState[] = FINAL_STATES,
  ): Promise<boolean[]> {
    if (deliveries.length === 0) return [];
    try {
      const values = await this.redis.mget(deliveries.map((d) => DedupCache.key(d.messageId, d.channel)));
      const done = values.map((value) => (states as readonly (string | null)[]).includes(value));
      const hits = done.filter(Boolean).length;
      this.metrics.dedupCache.inc({ result: 'hit' }, hits);
      this.metrics.dedupCache.inc({ result: 'miss' }, deliveries.length - hits);
      return done;
    } catch (error) {
      this.metrics.dedupCache.inc({ result: 'error' }, deliveries.length);
      this.logger.warn({ err: error }, 'dedup cache unreachable; the database decides alone');
      return deliveries.map(() => false);
    }
  }

  /**
   * `SET … NX EX` for FAILED: the first final state recorded stays for the window. SENT always
   * overwrites: the only way from FAILED to SENT is an operator's redrive, and SENT is then the truth.
   */
  async remember(messageId: string, channel: DeliveryChannel, state: FinalState): Promise<void> {
    const key = DedupCache.key(messageId, channel);
    try {
      if (state === 'SENT') await this.redis.set(key, state, 'EX', this.ttlSeconds);
      else await this.redis.set(key, state, 'EX', this.ttlSeconds, 'NX');
    } catch (error) {
      this.logger.warn({ err: error, messageId, channel }, 'could not write the dedup cache');
    }
  }
}
