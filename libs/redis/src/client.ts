import Redis from 'ioredis';

/** The client type, re-exported so other projects hold one without importing ioredis. */
export type RedisClient = Redis;

/** The slice of a pino-style logger this lib needs (the observability lib's logger satisfies it). */
export interface RedisLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedisClientOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Shown by `CLIENT LIST`, so an operator can tell which service holds a connection. */
  connectionName: string;
  logger: RedisLogger;
  /**
   * Reconnect attempts a command waits through before it rejects. Small on purpose: a caller
   * (a readiness probe, a drain loop with its own backoff) learns within seconds that Redis is
   * gone instead of piling commands up in memory. @defaultValue 2
   */
  maxRetriesPerRequest?: number;
  /** Time to establish a TCP connection. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** A command without an answer after this long rejects. @defaultValue 10000 */
  commandTimeoutMs?: number;
  /** Reconnect delays grow 100 ms, 200 ms, 400 ms … up to this. @defaultValue 5000 */
  maxReconnectDelayMs?: number;
}

/** Reconnect delay before attempt `attempt` (1-based): exponential from 100 ms, capped. */
export function reconnectDelayMs(attempt: number, maxMs = 5_000): number {
  return Math.min(maxMs, 100 * 2 ** Math.max(0, attempt - 1));
}

/**
 * An ioredis client that reconnects forever with capped exponential backoff, fails commands after
 * a few reconnect attempts rather than queueing them without bound, and reports connection errors
 * to the logger (once per outage) instead of as unhandled `'error'` events that would crash the
 * process.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const { logger, connectionName } = options;
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const client = new Redis(options.url, {
    connectionName,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    commandTimeout: options.commandTimeoutMs ?? 10_000,
    retryStrategy: (attempt) => reconnectDelayMs(attempt, maxDelay),
    // Reconnect on READONLY (a replica promoted/demoted under us): writes must reach the primary.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  });
  let lastError: string | undefined;
  client.on('error', (error: Error) => {
    // ioredis emits the same error on every reconnect attempt: log it once per outage.
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error, connectionName }, 'redis connection error; reconnecting');
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.info({ connectionName }, 'redis connection restored');
    else logger.debug({ connectionName }, 'redis connected');
    lastError = undefined;
  });
  return client;
}

/** Readiness probe: Redis answers `PING` with `PONG`. */
export async function pingRedis(client: RedisClient): Promise<void> {
  const reply = await client.ping();
  if (reply !== 'PONG') throw new Error(`redis answered PING with ${JSON.stringify(reply)}`);
}

/**
 * Closes the client: `QUIT` (pending replies arrive first) when connected, else drops the
 * connection at once so a shutdown never waits on a Redis that is down.
 */
export async function closeRedisClient(client: RedisClient, timeoutMs = 2_000): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch {
    // Closing anyway.
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
