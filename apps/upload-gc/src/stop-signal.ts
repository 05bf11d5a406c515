import { constants } from 'node:os';
import { type Logger } from '@fleet/observability';

/**
 * SIGTERM / SIGINT during a run: the batch in flight finishes (committed or rolled back), no new
 * batch starts, and the run reports and exits. A second signal exits at once: the open transaction
 * dies with the connection and is rolled back by PostgreSQL, so nothing is left half-done in the
 * database (objects already deleted are found gone by the next run).
 */
export class StopSignal {
  private received: NodeJS.Signals | undefined;

  constructor(private readonly logger: Logger) {}

  install(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): this {
    for (const signal of signals) {
      process.on(signal, () => {
        if (this.received) {
          this.logger.error({ signal }, 'second signal; exiting now');
          process.exit(exitCodeOf(signal));
        }
        this.received = signal;
        this.logger.warn({ signal }, 'stopping after the batch in flight');
      });
    }
    return this;
  }

  get requested(): boolean {
    return this.received !== undefined;
  }

  /** The signal that stopped the run, if one did. */
  get signal(): NodeJS.Signals | undefined {
    return this.received;
  }
}

/** 128 + the signal's number, the shell's convention: 143 for SIGTERM, 130 for SIGINT. */
export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
