import { hostname } from 'node:os';
import { breakersOf, onBreakerBuilt, type Breaker } from '@fleet/circuit-breaker';
import { type Registry } from 'prom-client';
import {
  breakerCommandSchema,
  breakerControlKeys,
  breakerOverrideRecordSchema,
  parseRecord,
  type BreakerCommand,
  type BreakerControlKeys,
  type BreakerOverrideRecord,
  type BreakerReplicaReport,
  type BreakerReport,
} from './breaker-records';
import { closeRedisClient, createRedisClient, type RedisClient, type RedisLogger } from './client';

export interface BreakerControlOptions {
  /** Redis URL. The control opens two connections of its own: commands, and a subscriber. */
  url: string;
  /** @defaultValue `breakerControlKeys()` (prefix `fleet:breakers`) */
  keys?: BreakerControlKeys;
  /** The app's `SERVICE_NAME`, shown in the fleet view and in `CLIENT LIST`. */
  app: string;
  /** The app's metrics registry: its breakers (`breakersOf`) are the ones controlled. */
  registry: Registry;
  logger: RedisLogger;
  /** @defaultValue `hostname:pid` (a pod's hostname is its name) */
  replica?: string;
  /** The report is rewritten this often (its counts refreshed), and on every change. @defaultValue 1000 */
  heartbeatMs?: number;
  /** A replica that stops reporting leaves the fleet view after this. @defaultValue 3 × heartbeatMs */
  reportTtlMs?: number;
  /** The overrides hash is re-read this often, for a control message missed (a reconnect). @defaultValue 5000 */
  resyncMs?: number;
  /** `start` waits this long for Redis at most; the overrides then apply once it answers. @defaultValue 2000 */
  startTimeoutMs?: number;
}

/** Index entries of replicas whose report expired this long ago are pruned (generous: clocks skew). */
const INDEX_GRACE_MS = 60_000;

/**
 * One replica's part in the fleet's breaker control. On start it applies the desired overrides
 * (the hash) to this app's breakers, then follows the control channel so an operator's action
 * reaches it within milliseconds, re-reading the hash every `resyncMs` and after a reconnect in
 * case a message was lost (pub/sub delivers at most once). It publishes its breakers' state,
 * override and counts under a key with a TTL, every heartbeat and on every change, so the
 * operator's one query (`BreakerFleet`) lists every live replica.
 *
 * Redis being down never fails the app: the breakers keep working on their own, overrides already
 * applied stay, and the control catches up once Redis answers.
 */
export class BreakerControl {
  readonly replica: string;
  private readonly keys: BreakerControlKeys;
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly heartbeatMs: number;
  private readonly reportTtlMs: number;
  private readonly startedAt = new Date().toISOString();
  /** The desired overrides, as last read. */
  private desired = new Map<string, BreakerOverrideRecord>();
  /** The overrides this control applied (not ones set in code), by breaker. */
  private readonly applied = new Map<Breaker, BreakerOverrideRecord>();
  private readonly lastCommand = new Map<Breaker, string>();
  private readonly watched = new Map<Breaker, () => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopWatching: (() => void) | undefined;
  /** Syncs run one at a time, in the order messages arrived. */
  private syncing: Promise<void> = Promise.resolve();
  private subscribed = false;
  private syncFailing = false;
  private reporting: Promise<void> | undefined;
  private reportAgain = false;
  private stopped = false;

  constructor(private readonly options: BreakerControlOptions) {
    this.keys = options.keys ?? breakerControlKeys();
    this.replica = options.replica ?? `${hostname()}:${process.pid}`;
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.reportTtlMs = options.reportTtlMs ?? 3 * this.heartbeatMs;
    const connection = { url: options.url, logger: options.logger };
    this.commands = createRedisClient({ ...connection, connectionName: `${options.app}:breaker-control` });
    this.subscriber = createRedisClient({
      ...connection,
      connectionName: `${options.app}:breaker-control-sub`,
    });
  }

  /** Applies the overrides in force and starts following changes; resolves within `startTimeoutMs`. */
  async start(): Promise<void> {
    const { registry, logger } = this.options;
    for (const breaker of breakersOf(registry)) this.watch(breaker);
    this.stopWatching = onBreakerBuilt(registry, (breaker) => {
      this.watch(breaker);
      this.applyTo(breaker);
      this.report();
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.keys.control) return;
      const command = parseRecord(breakerCommandSchema, message);
      if (!command) logger.warn({ channel, message }, 'ignoring a breaker control message of unknown shape');
      else void this.sync(command);
    });
    // ioredis subscribes again after a reconnect; what was published meanwhile is lost.
    this.subscriber.on('ready', () => {
      if (this.subscribed) void this.sync();
    });
    const started = Promise.all([this.subscribe(), this.sync()]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.startTimeoutMs ?? 2_000);
    });
    const outcome = await Promise.race([started, timedOut]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout' || !this.subscribed) {
      logger.warn(
        { replica: this.replica },
        'breaker control could not reach Redis at start; overrides apply once it answers',
      );
    }
    this.every(this.heartbeatMs, () => this.report());
    this.every(this.options.resyncMs ?? 5_000, () => {
      if (!this.subscribed) void this.subscribe();
      void this.sync();
    });
    this.report();
  }

  /** Stops following, removes this replica from the fleet view and closes both connections. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.stopWatching?.();
    for (const unsubscribe of this.watched.values()) unsubscribe();
    this.watched.clear();
    await this.syncing;
    await this.reporting;
    try {
      await this.commands
        .multi()
        .del(this.keys.replica(this.replica))
        .zrem(this.keys.replicas, this.replica)
        .exec();
    } catch {
      // Redis is down: the report expires by itself.
    }
    await Promise.all([closeRedisClient(this.subscriber), closeRedisClient(this.commands)]);
  }

  /** This replica's report, as it would be published now. */
  snapshot(): BreakerReplicaReport {
    return {
      app: this.options.app,
      replica: this.replica,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      breakers: breakersOf(this.options.registry).map((breaker) => this.describe(breaker)),
    };
  }

  private describe(breaker: Breaker): BreakerReport {
    const override = breaker.override;
    const applied = this.applied.get(breaker);
    return {
      name: breaker.name,
      state: breaker.state,
      override: override
        ? { ...override, ...(applied ? { actor: applied.actor, id: applied.id } : {}) }
        : null,
      counts: breaker.counts,
      lastCommandId: this.lastCommand.get(breaker) ?? null,
    };
  }

  private watch(breaker: Breaker): void {
    if (this.watched.has(breaker)) return;
    this.watched.set(
      breaker,
      breaker.onStateChange(() => this.report()),
    );
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.keys.control);
      this.subscribed = true;
    } catch {
      // Retried by the resync timer; the client logs the outage.
    }
  }

  /** Queues one sync: `command` first (a reset acts on breakers without an override too), then the hash. */
  private sync(command?: BreakerCommand): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      if (this.stopped) return;
      if (command?.action === 'reset') {
        this.resetAll(command);
        this.report();
      }
      try {
        this.desired = await this.readDesired();
      } catch (err) {
        if (!this.syncFailing) {
          this.options.logger.warn({ err }, 'breaker control cannot read the overrides; retrying');
        }
        this.syncFailing = true;
        return;
      }
      if (this.syncFailing) this.options.logger.info({}, 'breaker control reads the overrides again');
      this.syncFailing = false;
      for (const breaker of breakersOf(this.options.registry)) this.applyTo(breaker);
      this.report();
    });
    return this.syncing;
  }

  private async readDesired(): Promise<Map<string, BreakerOverrideRecord>> {
    const raw = await this.commands.hgetall(this.keys.overrides);
    const desired = new Map<string, BreakerOverrideRecord>();
    for (const [name, value] of Object.entries(raw)) {
      const record = parseRecord(breakerOverrideRecordSchema, value);
      if (record) desired.set(name, record);
      else this.options.logger.warn({ breaker: name, value }, 'ignoring a breaker override of unknown shape');
    }
    return desired;
  }

  private resetAll(command: BreakerCommand): void {
    for (const breaker of breakersOf(this.options.registry)) {
      if (breaker.name !== command.name) continue;
      breaker.reset();
      this.applied.delete(breaker);
      this.lastCommand.set(breaker, command.id);
    }
  }

  /** Brings one breaker to the desired override; a no-op when it already has it. */
  private applyTo(breaker: Breaker): void {
    const want = this.desired.get(breaker.name);
    const had = this.applied.get(breaker);
    if (want && had?.id !== want.id) {
      if (want.mode === 'open') breaker.forceOpen(want.reason);
      else breaker.forceClose(want.reason);
      this.applied.set(breaker, want);
      this.lastCommand.set(breaker, want.id);
      this.options.logger.info(
        { breaker: breaker.name, override: want.mode, actor: want.actor, reason: want.reason, id: want.id },
        `breaker override applied: ${breaker.name} forced ${want.mode}`,
      );
    } else if (!want && had) {
      // Released while this replica was not listening (the reset message itself was missed).
      breaker.reset();
      this.applied.delete(breaker);
    }
  }

  /** Publishes the report now; calls while a write is in flight make one more write after it. */
  private report(): void {
    if (this.stopped) return;
    if (this.reporting) {
      this.reportAgain = true;
      return;
    }
    this.reporting = (async () => {
      do {
        this.reportAgain = false;
        await this.write().catch(() => undefined); // the next heartbeat tries again
      } while (this.reportAgain && !this.stopped);
      this.reporting = undefined;
    })();
  }

  private async write(): Promise<void> {
    const now = Date.now();
    await this.commands
      .multi()
      .set(this.keys.replica(this.replica), JSON.stringify(this.snapshot()), 'PX', this.reportTtlMs)
      .zadd(this.keys.replicas, now + this.reportTtlMs, this.replica)
      .zremrangebyscore(this.keys.replicas, '-inf', now - INDEX_GRACE_MS)
      .exec();
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
