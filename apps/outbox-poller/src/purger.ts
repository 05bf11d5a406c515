import { sqlOf, type DataSource } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { type OutboxStore } from '@fleet/outbox';

export interface PurgerOptions {
  dataSource: DataSource;
  store: OutboxStore;
  logger: Logger;
  /** Published rows older than this are deleted; 0 keeps them (the purger does nothing). */
  retentionMs: number;
  /** Time between two purge runs. */
  intervalMs: number;
  /** Rows deleted per statement; a run repeats it until a statement deletes fewer. */
  batchSize?: number;
}

/**
 * Deletes published outbox rows past retention, on its own timer: once per interval, in batches,
 * until none is left. The relay loops never wait for it, and an idle fleet runs one DELETE per
 * interval instead of one per idle poll of every loop.
 */
export class OutboxPurger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: PurgerOptions) {}

  start(): void {
    if (this.options.retentionMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => {
        await this.runOnce();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One purge run; resolves to the rows deleted. Errors are logged, never thrown. */
  async runOnce(): Promise<number> {
    const { dataSource, store, logger, retentionMs, batchSize = 1_000 } = this.options;
    if (retentionMs <= 0) return 0;
    let total = 0;
    try {
      for (;;) {
        const purged = await store.purgePublished(sqlOf(dataSource.manager), retentionMs, batchSize);
        total += purged;
        if (purged < batchSize || this.stopping) break;
      }
      if (total > 0) logger.debug({ purged: total }, 'purged published outbox rows past retention');
    } catch (error) {
      logger.warn({ err: error, purged: total }, 'purging published outbox rows failed');
    }
    return total;
  }
}
