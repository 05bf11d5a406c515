export {
  GENERATE_JOB_OF,
  LOCATION_TYPES,
  MAX_CHALLENGE_RATING,
  MAX_LEVEL,
  OBJECTIVE_TYPES,
  POI_KINDS,
  POOL_DEFAULTS,
  POOL_JOB_KINDS,
  POOL_TABLES,
  POOLS,
  SEED_PRIORITY,
  campaignSeedSchema,
  characterIdSchema,
  jobPriorityOfSeed,
  locationSchema,
  poolJobInputSchemas,
  poolOfJob,
  refillKey,
  seedPriorityOfJob,
  type Location,
  type PoolJobInputs,
  type PoolJobKind,
  type PoolName,
} from './pools';
export {
  MAP_SIZE,
  callAnswer,
  callSchema,
  itemSchemas,
  dungeonItem,
  encounterItem,
  normalizedTitle,
  npcItem,
  poiItem,
  questItem,
  questRewardBounds,
  rejectionOf,
  type CallTarget,
  type PoolItem,
  type PoolItems,
  type RejectionReason,
} from './items';
export {
  PoolStore,
  type Campaign,
  type ClaimResult,
  type InsertOutcome,
  type PoolLevel,
  type PoolSettings,
} from './pool-store';
export { PoolArgumentError, poolArgumentErrorOf } from './pool.errors';
export { CreatePools1765000000000 } from './migrations/1765000000000-CreatePools';
import { CreatePools1765000000000 } from './migrations/1765000000000-CreatePools';

/**
 * The pool tables, campaigns, settings and the seed's SQL functions; the api's migrations include
 * them after the jobs and outbox tables they write to.
 */
export const POOL_MIGRATIONS = [CreatePools1765000000000] as const;
