import { createHash } from 'node:crypto';
import { type RedisClient } from './client';
import { RedisRuntimeError } from './redis.errors';

/**
 * A Lua script run with `EVALSHA`, loaded with `EVAL` the first time a server does not know it
 * (fresh server, `SCRIPT FLUSH`, failover). A script runs atomically: no other command sees the
 * keys half-changed, which is what makes each step of the fallback queue safe.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      try {
        return await client.evalsha(this.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await client.eval(this.source, keys.length, ...keys, ...args);
      }
    } catch (error) {
      // Scripts refuse with `LOCK_LOST <detail>` when the caller's drain lock token is stale.
      if (error instanceof Error && error.message.startsWith('LOCK_LOST')) {
        throw new RedisRuntimeError(
          'LOCK_LOST',
          `${this.name}: ${error.message.slice('LOCK_LOST '.length)}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

/**
 * First lines of every drain script: refuse unless the lock key (`KEYS[#KEYS]`) holds the caller's
 * token (`ARGV[1]`). This fences a drainer that lost its lock (paused past the TTL, say) from
 * touching the processing list a newer drainer now owns.
 */
export const FENCE = `
if redis.call('GET', KEYS[#KEYS]) ~= ARGV[1] then
  return redis.error_reply('LOCK_LOST the drain lock is not held by this token')
end
`;
