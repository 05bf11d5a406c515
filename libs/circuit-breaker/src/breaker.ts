import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';
import { registerBreaker, unregisterBreaker } from './registry';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Gauge values of `circuit_breaker_state`: 0 closed, 1 half-open, 2 open (alert on `== 2`). */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

/** An operator's override: `open` fails every call fast, `closed` lets every call through. */
export type BreakerOverrideMode = 'open' | 'closed';

export interface BreakerOverride {
  mode: BreakerOverrideMode;
  /** Why, in the operator's words (logged, reported to the fleet view). */
  reason: string;
  /** When it was applied in this process, ISO 8601. */
  since: string;
}

/**
 * Gauge values of `circuit_breaker_forced`: 0 no override, 1 forced closed, 2 forced open (the
 * same number as the state it pins, so `circuit_breaker_forced == 2` reads "forced open").
 */
export const BREAKER_FORCED_VALUE: Readonly<Record<BreakerOverrideMode | 'none', number>> = {
  none: 0,
  closed: 1,
  open: 2,
};

/**
 * Calls over the breaker's rolling window (`windowMs`): what its next decision is made on.
 * `failures` includes `timeouts`; an error `isFailure` rejects counts as a success; `calls`
 * includes `rejections`.
 */
export interface BreakerCounts {
  windowMs: number;
  calls: number;
  successes: number;
  failures: number;
  timeouts: number;
  rejections: number;
}

/** The slice of a pino-style logger the breaker needs. */
export interface BreakerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface BreakerOptions {
  /** Label of the breaker's metrics and logs, e.g. `kafka-producer`. */
  name: string;
  registry: Registry;
  logger: BreakerLogger;
  /** Failure percentage, over the rolling window, above which the breaker opens. @defaultValue 50 */
  failureThresholdPercent?: number;
  /** Calls in the window before the percentage is judged at all. @defaultValue 3 */
  minimumCalls?: number;
  /** Length of the rolling window the percentage is computed over. @defaultValue 10000 */
  windowMs?: number;
  /** Time the breaker stays open before it lets one probe call through (half-open). @defaultValue 5000 */
  resetTimeoutMs?: number;
  /** A call still running after this long counts as failed; `false` leaves timing to the caller. @defaultValue false */
  callTimeoutMs?: number | false;
  /**
   * Which errors say the dependency is unhealthy. Others (a rejected record, a bad argument) are
   * passed to the caller without counting against the breaker. @defaultValue every error counts
   */
  isFailure?: (error: unknown) => boolean;
}

/** Thrown instead of calling the dependency while the breaker is open (or probing in half-open, or forced open). */
export class BreakerOpenError extends Error {
  readonly code = 'BREAKER_OPEN';
  readonly retriable = true;
  constructor(readonly breaker: string) {
    super(`circuit breaker "${breaker}" is open: not calling the dependency`);
    this.name = 'BreakerOpenError';
  }
}

interface BreakerMetrics {
  state: Gauge<'breaker'>;
  forced: Gauge<'breaker'>;
  transitions: Counter<'breaker' | 'to'>;
  calls: Counter<'breaker' | 'result'>;
}

const metricsCache = new WeakMap<Registry, BreakerMetrics>();

function breakerMetrics(registry: Registry): BreakerMetrics {
  const cached = metricsCache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: BreakerMetrics = {
    state: new Gauge({
      name: 'circuit_breaker_state',
      help: 'State of each circuit breaker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['breaker'],
      registers,
    }),
    forced: new Gauge({
      name: 'circuit_breaker_forced',
      help: 'Operator override of each circuit breaker: 0 none, 1 forced closed, 2 forced open.',
      labelNames: ['breaker'],
      registers,
    }),
    transitions: new Counter({
      name: 'circuit_breaker_transitions_total',
      help: 'State changes of each circuit breaker, by the state entered.',
      labelNames: ['breaker', 'to'],
      registers,
    }),
    calls: new Counter({
      name: 'circuit_breaker_calls_total',
      help: 'Calls through each breaker: success (the dependency answered), failure (timeouts included), rejected (open).',
      labelNames: ['breaker', 'result'],
      registers,
    }),
  };
  metricsCache.set(registry, metrics);
  return metrics;
}

type Thunk = () => Promise<unknown>;

/**
 * One circuit breaker around one dependency, on opossum. Wraps arbitrary async calls:
 * `breaker.run(() => producer.send(...))`. While open, calls fail fast with {@link BreakerOpenError};
 * after `resetTimeoutMs` one probe call goes through (half-open): success closes the breaker,
 * failure opens it again. An operator can pin it ({@link forceOpen}, {@link forceClose}) until
 * {@link reset}. Every state change is logged and exported (`circuit_breaker_state`, and
 * `circuit_breaker_forced` for overrides); {@link breakersOf} finds it by its registry.
 */
export class Breaker {
  readonly name: string;
  private readonly circuit: CircuitBreaker<[Thunk], unknown>;
  private readonly metrics: BreakerMetrics;
  private readonly logger: BreakerLogger;
  private readonly registry: Registry;
  private readonly windowMs: number;
  private readonly listeners = new Set<(state: BreakerState) => void>();
  private forced: BreakerOverride | undefined;
  /** The state last exported and announced: transitions are counted on the state callers see. */
  private announced: BreakerState = 'closed';

  constructor(options: BreakerOptions) {
    const { name, registry, logger, isFailure } = options;
    this.name = name;
    this.logger = logger;
    this.registry = registry;
    this.windowMs = options.windowMs ?? 10_000;
    this.metrics = breakerMetrics(registry);
    this.circuit = new CircuitBreaker<[Thunk], unknown>((thunk: Thunk) => thunk(), {
      name,
      errorThresholdPercentage: options.failureThresholdPercent ?? 50,
      volumeThreshold: options.minimumCalls ?? 3,
      rollingCountTimeout: this.windowMs,
      rollingCountBuckets: 10,
      resetTimeout: options.resetTimeoutMs ?? 5_000,
      timeout: options.callTimeoutMs ?? false,
      // opossum's filter means "do not count this error": the inverse of ours.
      errorFilter: isFailure ? (error: unknown) => !isFailure(error) : undefined,
    });
    // An override pins opossum's own state rather than bypassing it, so its window keeps counting
    // every call (the counts stay true) and a release hands it a consistent circuit. Forced open,
    // its reset timer would half-open it for a probe: re-open at once. Forced closed, the failure
    // rate would trip it: close at once. Both happen inside opossum's synchronous emit, before
    // another call can be let through.
    this.circuit.on('open', () => {
      if (this.forced?.mode === 'closed') this.circuit.close();
      else this.announce();
    });
    this.circuit.on('halfOpen', () => {
      if (this.forced?.mode === 'open') this.circuit.open();
      else this.announce();
    });
    this.circuit.on('close', () => this.announce());
    this.circuit.on('success', () => this.metrics.calls.inc({ breaker: name, result: 'success' }));
    // An error `isFailure` rejects is a success for opossum: the dependency answered.
    this.circuit.on('failure', () => this.metrics.calls.inc({ breaker: name, result: 'failure' }));
    this.circuit.on('reject', () => this.metrics.calls.inc({ breaker: name, result: 'rejected' }));
    this.metrics.state.set({ breaker: name }, BREAKER_STATE_VALUE.closed);
    this.metrics.forced.set({ breaker: name }, BREAKER_FORCED_VALUE.none);
    registerBreaker(registry, this);
  }

  get state(): BreakerState {
    if (this.forced) return this.forced.mode;
    if (this.circuit.opened) return 'open';
    if (this.circuit.halfOpen) return 'half-open';
    return 'closed';
  }

  /** True while calls would be let through (closed, or half-open awaiting its probe). */
  get allowsCalls(): boolean {
    return this.state !== 'open';
  }

  /** The operator's override in force, if any. */
  get override(): BreakerOverride | undefined {
    return this.forced && { ...this.forced };
  }

  /** The rolling window's calls, as opossum counts them. */
  get counts(): BreakerCounts {
    const stats = this.circuit.stats;
    return {
      windowMs: this.windowMs,
      calls: stats.fires,
      successes: stats.successes,
      failures: stats.failures,
      timeouts: stats.timeouts,
      rejections: stats.rejects,
    };
  }

  /** Runs `call` through the breaker. @throws {@link BreakerOpenError} while open, else `call`'s own error. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return (await this.circuit.fire(call)) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EOPENBREAKER') throw new BreakerOpenError(this.name);
      throw error;
    }
  }

  /**
   * Every call fails fast with {@link BreakerOpenError} until {@link reset} (or {@link forceClose}):
   * no half-open probe, whatever `resetTimeoutMs` says. For taking a dependency out of service
   * on purpose (maintenance, a known outage the failure rate has not seen yet).
   */
  forceOpen(reason: string): void {
    this.pin('open', reason);
    this.circuit.open();
  }

  /**
   * Every call goes through to the dependency and no failure rate opens the breaker, until
   * {@link reset} (or {@link forceOpen}). For a breaker that trips on errors known to be harmless.
   */
  forceClose(reason: string): void {
    this.pin('closed', reason);
    this.circuit.close();
  }

  /**
   * Drops any override and closes the circuit (opossum's `close()`): calls go through again and
   * the failure rate is judged as before. The rolling window keeps its counts, so a dependency
   * still failing opens the breaker again on its next failures.
   */
  reset(): void {
    const released = this.forced;
    this.forced = undefined;
    this.metrics.forced.set({ breaker: this.name }, BREAKER_FORCED_VALUE.none);
    this.logger.info(
      { breaker: this.name, ...(released ? { released: released.mode } : {}) },
      `circuit breaker ${this.name} reset: closed${released ? `, forced ${released.mode} released` : ''}`,
    );
    // Closing an already closed circuit emits nothing, and an override may have been all that
    // kept the announced state where it was.
    this.circuit.close();
    this.announce();
  }

  /** Called with the new state on every transition; returns the unsubscribe function. */
  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the breaker's timers; later calls fail. */
  shutdown(): void {
    unregisterBreaker(this.registry, this);
    this.listeners.clear();
    this.circuit.shutdown();
  }

  private pin(mode: BreakerOverrideMode, reason: string): void {
    if (this.forced?.mode === mode && this.forced.reason === reason) return;
    this.forced = { mode, reason, since: new Date().toISOString() };
    this.metrics.forced.set({ breaker: this.name }, BREAKER_FORCED_VALUE[mode]);
    this.logger.warn(
      { breaker: this.name, override: mode, reason },
      `circuit breaker ${this.name} forced ${mode} by an operator: ${reason}`,
    );
    this.announce();
  }

  /** Exports, logs and tells the listeners about the state callers now see, if it changed. */
  private announce(): void {
    const state = this.state;
    if (state === this.announced) return;
    this.announced = state;
    const name = this.name;
    this.metrics.state.set({ breaker: name }, BREAKER_STATE_VALUE[state]);
    this.metrics.transitions.inc({ breaker: name, to: state });
    const forced = this.forced ? ' (forced)' : '';
    if (state === 'open')
      this.logger.warn({ breaker: name, state }, `circuit breaker ${name} opened${forced}: failing fast`);
    else if (state === 'half-open')
      this.logger.info({ breaker: name, state }, `circuit breaker ${name} half-open: probing`);
    else this.logger.info({ breaker: name, state }, `circuit breaker ${name} closed${forced}`);
    for (const listener of this.listeners) listener(state);
  }
}
