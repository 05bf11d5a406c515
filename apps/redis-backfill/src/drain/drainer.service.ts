import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Breaker } from '@fleet/circuit-breaker';
import { classifyHandlerError } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { type DrainLock, type FallbackQueue, RedisRuntimeError } from '@fleet/redis';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { FALLBACK_QUEUE, KAFKA_BREAKER } from '../app.tokens';
import { type Config } from '../config';
import { backoffDelayMs } from './batch';
import { DrainBatch } from './drain-batch.use-case';
import { type DrainMetrics } from './drain.metrics';
import { DRAIN_METRICS } from './drain.tokens';

/** How long shutdown waits for the in-flight round before requeueing it (runService allows 25 s). */
const IN_FLIGHT_GRACE_MS = 15_000;

const lockLost = (error: unknown) => error instanceof RedisRuntimeError && error.code === 'LOCK_LOST';

/**
 * The drain loop. Only the holder of the drain lock drains (single-active: see the README); the
 * others stand by and try to take the lock every third of its TTL. The holder renews the lock on a
 * timer, runs rounds while the Kafka breaker allows calls (closed, or half-open for its probe), and
 * waits a poll interval between rounds — none after a full batch, a growing backoff after a failed
 * one, and until the breaker half-opens while it is open.
 */
@Injectable()
export class Drainer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lock: DrainLock;
  private stopping = false;
  private holding = false;
  private wake = new AbortController();
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(FALLBACK_QUEUE) private readonly queue: FallbackQueue,
    @Inject(KAFKA_BREAKER) private readonly breaker: Breaker,
    @Inject(DRAIN_METRICS) private readonly metrics: DrainMetrics,
    @Inject(DrainBatch) private readonly batch: DrainBatch,
  ) {
    this.lock = queue.drainLock(config.FALLBACK_LOCK_TTL_MS);
  }

  onApplicationBootstrap(): void {
    this.metrics.active.set(0);
    // A half-open breaker allows one probe: start it now rather than at the next poll.
    this.unsubscribe = this.breaker.onStateChange((state) => {
      if (state !== 'open') this.wake.abort();
    });
    this.loop = this.run().catch((error: unknown) => {
      // Only programmer errors get here: crash loudly, the processing list is recovered on restart.
      this.logger.fatal({ err: error }, 'drain loop crashed');
      process.exit(70);
    });
  }

  /** SIGTERM: finish (or requeue) the in-flight round, release the lock so a standby takes over. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.wake.abort();
    const finished = await Promise.race([
      this.loop?.then(() => true),
      sleep(IN_FLIGHT_GRACE_MS, false, { ref: false }),
    ]);
    this.stopHeartbeat();
    if (!this.holding) return;
    if (!finished) {
      // The send may still succeed: a duplicate then, never a loss (consumers dedup on x-event-id).
      this.logger.warn({ graceMs: IN_FLIGHT_GRACE_MS }, 'in-flight round did not finish; requeueing it');
      await this.queue.requeue(this.lock).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'requeue at shutdown failed; the next drainer recovers processing');
      });
    }
    await this.lock.release().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'releasing the drain lock failed; it expires after its TTL');
    });
    this.holding = false;
    this.metrics.active.set(0);
    this.logger.info({}, 'drain lock released');
  }

  private async run(): Promise<void> {
    const { FALLBACK_POLL_INTERVAL_MS: pollMs, FALLBACK_LOCK_TTL_MS: ttlMs } = this.config;
    let failures = 0;
    while (!this.stopping) {
      let delayMs = pollMs;
      try {
        if (!this.holding && !(await this.acquire())) {
          delayMs = Math.round(ttlMs / 3);
        } else if (this.breaker.allowsCalls) {
          const outcome = await this.batch.run(this.lock);
          failures = outcome === 'failed' ? failures + 1 : 0;
          if (outcome === 'full') delayMs = 0;
          if (outcome === 'failed') delayMs = this.backoff(failures);
        }
      } catch (error) {
        if (lockLost(error)) {
          this.lost();
          delayMs = 0;
        } else if (classifyHandlerError(error) === 'crash') {
          throw error;
        } else {
          // Redis unreachable, most likely: nothing moved, or processing is recovered next round.
          failures += 1;
          delayMs = this.backoff(failures);
          this.logger.warn({ err: error, retryInMs: delayMs }, 'drain round failed');
        }
      }
      if (delayMs > 0 && !this.stopping) await this.pause(delayMs);
    }
  }

  private backoff(failures: number): number {
    return backoffDelayMs(
      failures,
      this.config.FALLBACK_BACKOFF_INITIAL_MS,
      this.config.FALLBACK_BACKOFF_MAX_MS,
    );
  }

  /** Sleeps `ms`, or less when woken (breaker half-open, shutdown). */
  private async pause(ms: number): Promise<void> {
    if (this.wake.signal.aborted) this.wake = new AbortController();
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }

  private async acquire(): Promise<boolean> {
    if (!(await this.lock.tryAcquire())) {
      this.metrics.active.set(0);
      return false;
    }
    this.holding = true;
    this.metrics.active.set(1);
    this.logger.info({ ttlMs: this.lock.ttlMs }, 'took the drain lock: this replica drains');
    this.heartbeat = setInterval(() => void this.renew(), Math.round(this.lock.ttlMs / 3));
    this.heartbeat.unref();
    return true;
  }

  private async renew(): Promise<void> {
    try {
      if (!(await this.lock.renew()) && this.holding) this.lost();
    } catch (error) {
      // Redis unreachable: the lock may lapse; every drain step is fenced, so nothing can go wrong.
      this.logger.warn({ err: error }, 'renewing the drain lock failed');
    }
  }

  private lost(): void {
    if (!this.holding) return;
    this.holding = false;
    this.stopHeartbeat();
    this.metrics.active.set(0);
    this.logger.warn({}, 'lost the drain lock (expired or taken over): standing by');
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
