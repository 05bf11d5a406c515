import { randomUUID } from 'node:crypto';
import { type RedisClient } from './client';
import { LuaScript } from './script';

/** Something that proves who holds the drain lock; the queue's drain steps check it in Redis. */
export interface LockToken {
  readonly token: string;
}

export interface DrainLockOptions {
  /** The lock key, e.g. `FALLBACK_DRAIN_LOCK` of `@fleet/contracts`. */
  key: string;
  /** The lock expires this long after the last acquire/renew unless renewed. */
  ttlMs: number;
  /** @defaultValue a random UUID: unique per instance, so two replicas never share one */
  token?: string;
}

const RENEW = new LuaScript(
  'drain-lock-renew',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
);

const RELEASE = new LuaScript(
  'drain-lock-release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/**
 * A single-holder lease in Redis: `SET key token NX PX ttl` to take it, compare-and-set scripts to
 * renew and release it, so a holder whose lease expired can never extend or delete a newer
 * holder's lock. Renew it well within the TTL (a third of it is usual).
 */
export class DrainLock implements LockToken {
  readonly token: string;
  readonly key: string;
  readonly ttlMs: number;

  constructor(
    private readonly client: RedisClient,
    options: DrainLockOptions,
  ) {
    this.key = options.key;
    this.ttlMs = options.ttlMs;
    this.token = options.token ?? randomUUID();
  }

  /** Takes the lock if nobody holds it (or this instance already does). @returns whether it is held now */
  async tryAcquire(): Promise<boolean> {
    if (await this.renew()) return true;
    return (await this.client.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Extends the lease by `ttlMs`. @returns false when the lock is no longer ours (expired or taken) */
  async renew(): Promise<boolean> {
    return (await RENEW.run(this.client, [this.key], [this.token, this.ttlMs])) === 1;
  }

  /** Gives the lock up so a standby can take over at once. @returns false when it was not ours */
  async release(): Promise<boolean> {
    return (await RELEASE.run(this.client, [this.key], [this.token])) === 1;
  }
}
