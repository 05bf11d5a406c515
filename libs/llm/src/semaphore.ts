interface Waiter {
  grant: () => void;
}

/**
 * A counting semaphore whose waiters are served strictly in arrival order (first come, first
 * served), so a caller queued behind a long LLM call is never overtaken by a later one. A waiter
 * whose signal aborts leaves the queue at once and rejects with the signal's reason.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`Semaphore limit must be a positive integer, got ${limit}`);
    }
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once a slot is free. Releasing twice is harmless.
   * @throws the signal's reason when it aborts before a slot was granted.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Nobody may jump the queue, even when a slot is momentarily free.
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.grantNext();
    };
  }

  private grantNext(): void {
    while (this.active < this.limit && this.waiters.length > 0) {
      const next = this.waiters.shift() as Waiter;
      this.active++;
      next.grant();
    }
  }
}
