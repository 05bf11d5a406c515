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
export { BreakerControl, type BreakerControlOptions } from './breaker-control';
export { BreakerFleet, type BreakerActor, type BreakerRollout } from './breaker-fleet';
export {
  DEFAULT_BREAKER_CONTROL_PREFIX,
  breakerCommandSchema,
  breakerControlKeys,
  breakerControlPrefix,
  breakerOverrideRecordSchema,
  breakerReplicaReportSchema,
  breakerReportSchema,
  type BreakerCommand,
  type BreakerControlKeys,
  type BreakerOverrideRecord,
  type BreakerReplicaReport,
  type BreakerReport,
} from './breaker-records';
