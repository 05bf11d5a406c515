import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Gauge values of `circuit_breaker_state`: 0 closed, 1 half-open, 2 open (alert on `== 2`). */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

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

/** Thrown instead of calling the dependency while the breaker is open (or probing in half-open). */
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
 * failure opens it again. Every state change is logged and exported (`circuit_breaker_state`).
 */
export class Breaker {
  readonly name: string;
  private readonly circuit: CircuitBreaker<[Thunk], unknown>;
  private readonly metrics: BreakerMetrics;
  private readonly listeners = new Set<(state: BreakerState) => void>();

  constructor(options: BreakerOptions) {
    const { name, registry, logger, isFailure } = options;
    this.name = name;
    this.metrics = breakerMetrics(registry);
    this.circuit = new CircuitBreaker<[Thunk], unknown>((thunk: Thunk) => thunk(), {
      name,
      errorThresholdPercentage: options.failureThresholdPercent ?? 50,
      volumeThreshold: options.minimumCalls ?? 3,
      rollingCountTimeout: options.windowMs ?? 10_000,
      rollingCountBuckets: 10,
      resetTimeout: options.resetTimeoutMs ?? 5_000,
      timeout: options.callTimeoutMs ?? false,
      // opossum's filter means "do not count this error": the inverse of ours.
      errorFilter: isFailure ? (error: unknown) => !isFailure(error) : undefined,
    });
    const enter = (state: BreakerState, log: 'info' | 'warn', message: string) => () => {
      this.metrics.state.set({ breaker: name }, BREAKER_STATE_VALUE[state]);
      this.metrics.transitions.inc({ breaker: name, to: state });
      logger[log]({ breaker: name, state }, message);
      for (const listener of this.listeners) listener(state);
    };
    this.circuit.on('open', enter('open', 'warn', `circuit breaker ${name} opened: failing fast`));
    this.circuit.on('halfOpen', enter('half-open', 'info', `circuit breaker ${name} half-open: probing`));
    this.circuit.on('close', enter('closed', 'info', `circuit breaker ${name} closed`));
    this.circuit.on('success', () => this.metrics.calls.inc({ breaker: name, result: 'success' }));
    // An error `isFailure` rejects is a success for opossum: the dependency answered.
    this.circuit.on('failure', () => this.metrics.calls.inc({ breaker: name, result: 'failure' }));
    this.circuit.on('reject', () => this.metrics.calls.inc({ breaker: name, result: 'rejected' }));
    this.metrics.state.set({ breaker: name }, BREAKER_STATE_VALUE.closed);
  }

  get state(): BreakerState {
    if (this.circuit.opened) return 'open';
    if (this.circuit.halfOpen) return 'half-open';
    return 'closed';
  }

  /** True while calls would be let through (closed, or half-open awaiting its probe). */
  get allowsCalls(): boolean {
    return this.state !== 'open';
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

  /** Called with the new state on every transition; returns the unsubscribe function. */
  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the breaker's timers; later calls fail. */
  shutdown(): void {
    this.listeners.clear();
    this.circuit.shutdown();
  }
}
