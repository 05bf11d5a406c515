export {
  closeRedisClient,
  createRedisClient,
  pingRedis,
  reconnectDelayMs,
  type RedisClient,
  type RedisClientOptions,
  type RedisLogger,
} from './client';
export { DrainLock, type DrainLockOptions, type LockToken } from './drain-lock';
export {
  DEFAULT_FALLBACK_KEYS,
  FallbackQueue,
  MAX_CLAIM,
  fallbackQueueKeys,
  type ClaimResult,
  type FallbackQueueKeys,
  type FallbackQueueOptions,
} from './fallback-queue';
export {
  parseFallbackEntry,
  toFallbackRecord,
  type FallbackEntryDefect,
  type ParsedFallbackEntry,
} from './fallback-record';
export { RedisRuntimeError, type RedisRuntimeErrorCode } from './redis.errors';
export { publishAll } from './publish';
