/** The slice of a logger the shutdown sequence needs. */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShutdownStep {
  /** Shown in logs, e.g. `kafka consumers`. */
  name: string;
  run: () => Promise<void>;
}

export interface GracefulShutdownOptions {
  logger: ShutdownLogger;
  /** Steps run in order: readiness off first, then stop intake, finish work, close clients, flush telemetry. */
  steps: ShutdownStep[];
  /**
   * Hard deadline for the whole sequence; past it the process exits 1 rather than hang a rollout.
   * Keep it below the orchestrator's grace period (Kubernetes: 30 s).
   * @defaultValue 25000
   */
  timeoutMs?: number;
  /** @defaultValue ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** Injected for tests. @defaultValue process.exit */
  exit?: (code: number) => void;
}

/**
 * Installs signal handlers that run the shutdown steps once and exit 0, or exit 1 when a step fails
 * or the deadline passes. A second signal while shutting down exits at once (an impatient operator).
 * Returns the sequence so an app can also trigger it itself (e.g. after a fatal error).
 */
export function installGracefulShutdown(options: GracefulShutdownOptions): (reason: string) => Promise<void> {
  const { logger, steps, timeoutMs = 25_000, signals = ['SIGTERM', 'SIGINT'], exit = process.exit } = options;
  let running: Promise<void> | undefined;

  const shutdown = (reason: string): Promise<void> => {
    if (running) return running;
    logger.info({ reason, timeoutMs }, 'shutting down');
    const started = Date.now();
    const deadline = setTimeout(() => {
      logger.error({ reason, timeoutMs }, 'shutdown deadline passed; exiting');
      exit(1);
    }, timeoutMs);
    deadline.unref();
    running = (async () => {
      let code = 0;
      for (const step of steps) {
        try {
          await step.run();
        } catch (err) {
          code = 1;
          logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      clearTimeout(deadline);
      logger.info({ durationMs: Date.now() - started, code }, 'shutdown complete');
      exit(code);
    })();
    return running;
  };

  for (const signal of signals) {
    process.on(signal, () => {
      if (running) {
        logger.error({ signal }, 'second signal during shutdown; exiting now');
        exit(1);
        return;
      }
      void shutdown(signal);
    });
  }
  return shutdown;
}
