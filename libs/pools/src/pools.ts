import { z } from 'zod';

/**
 * Content pools (seed 001): game content generated ahead of time on the local LLM and claimed by
 * players in one statement. Each pool has a minimum size and a batch size (how many items one
 * refill job makes); points of interest are pooled per campaign.
 */
export const POOLS = ['quests', 'npcs', 'pois', 'encounters', 'dungeons'] as const;
export type PoolName = (typeof POOLS)[number];

/** The seed's minimum pool sizes and batch sizes; deployments override them (POOL_* env). */
export const POOL_DEFAULTS: Readonly<Record<PoolName, { minSize: number; batchSize: number }>> = {
  quests: { minSize: 20, batchSize: 10 },
  npcs: { minSize: 30, batchSize: 15 },
  pois: { minSize: 50, batchSize: 25 },
  encounters: { minSize: 30, batchSize: 15 },
  dungeons: { minSize: 10, batchSize: 5 },
};

/** The table each pool lives in (the seed's names, plus `points_of_interest`). */
export const POOL_TABLES: Readonly<Record<PoolName, string>> = {
  quests: 'quest_templates',
  npcs: 'npc_personalities',
  pois: 'points_of_interest',
  encounters: 'combat_encounters',
  dungeons: 'dungeon_content',
};

/** The seed's job types: worker jobs of the `pool-filler`. */
export const POOL_JOB_KINDS = [
  'check_all_pools',
  'generate_quests',
  'generate_npcs',
  'generate_encounters',
  'generate_dungeons',
  'generate_pois',
  'summarize_session',
] as const;
export type PoolJobKind = (typeof POOL_JOB_KINDS)[number];

/** The generation job that refills each pool. */
export const GENERATE_JOB_OF: Readonly<Record<PoolName, PoolJobKind>> = {
  quests: 'generate_quests',
  npcs: 'generate_npcs',
  pois: 'generate_pois',
  encounters: 'generate_encounters',
  dungeons: 'generate_dungeons',
};

/** The pool a generation job fills, or undefined for the other kinds. */
export function poolOfJob(kind: string): PoolName | undefined {
  return POOLS.find((pool) => GENERATE_JOB_OF[pool] === kind);
}

/**
 * The dedup key of a pool's refill jobs: at most one waiting or running per pool (per campaign for
 * points of interest), so checks and claims racing on several replicas never overfill it.
 */
export function refillKey(pool: PoolName, campaignSeed?: string): string {
  return pool === 'pois' ? `pool:pois:${campaignSeed ?? ''}` : `pool:${pool}`;
}

/** Seed 001's priority: 1 is the highest, 10 the lowest. The jobs table orders higher first. */
export const SEED_PRIORITY = { min: 1, max: 10, default: 5, check: 1 } as const;
export const jobPriorityOfSeed = (priority: number): number => 11 - priority;
export const seedPriorityOfJob = (priority: number): number => 11 - priority;

/** Highest player level the pools know (quests, encounters). */
export const MAX_LEVEL = 20;
/** Highest challenge rating an encounter may have (D&D 5e's scale, as the seed uses). */
export const MAX_CHALLENGE_RATING = 30;

/** `campaign_seed`: what the seed calls a campaign; short, URL- and key-safe. */
export const campaignSeedSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected 1–64 letters, digits, "_" or "-"');

/** A character or player id, as the game server names it. */
export const characterIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces');

/** A spawn location: map coordinates. */
export const locationSchema = z.object({ x: z.number().finite(), y: z.number().finite() }).strict();
export type Location = z.infer<typeof locationSchema>;

const range = (max: number, integer: boolean) => {
  const bound = integer
    ? z
        .number()
        .int()
        .min(integer ? 1 : 0)
        .max(max)
    : z.number().min(0).max(max);
  return z
    .tuple([bound, bound])
    .refine(([lo, hi]) => lo <= hi, 'expected [low, high] with low <= high (the range is inverted)');
};
const levelRange = range(MAX_LEVEL, true);
const crRange = range(MAX_CHALLENGE_RATING, false);

/**
 * The input of each job type, as the seed writes it, with the count capped (`maxCount`, the
 * POOL_MAX_JOB_COUNT of the deployment). The SQL function `enqueue_worker_job` checks the same
 * rules in the database.
 */
export function poolJobInputSchemas(maxCount: number) {
  const count = z.number().int().min(1).max(maxCount);
  return {
    check_all_pools: z.object({}).strict(),
    generate_quests: z.object({ count, level_range: levelRange.optional() }).strict(),
    generate_npcs: z.object({ count }).strict(),
    generate_encounters: z.object({ count, cr_range: crRange.optional() }).strict(),
    generate_dungeons: z.object({ count }).strict(),
    generate_pois: z.object({ campaign_seed: campaignSeedSchema, count }).strict(),
    summarize_session: z
      .object({ character_id: characterIdSchema, message_count: z.number().int().min(1).max(500) })
      .strict(),
  } as const satisfies Record<PoolJobKind, z.ZodType>;
}
export type PoolJobInputs = {
  [K in PoolJobKind]: z.output<ReturnType<typeof poolJobInputSchemas>[K]>;
};

/** Quest objective types the game knows; the LLM's objectives are checked against them. */
export const OBJECTIVE_TYPES = [
  'kill_enemies',
  'collect_items',
  'escort',
  'explore',
  'deliver',
  'talk_to',
] as const;
/** Points of interest kinds. */
export const POI_KINDS = ['town', 'ruin', 'shrine', 'cave', 'landmark', 'camp', 'tower', 'grove'] as const;
/** Where encounters happen (the seed's `location_type`). */
export const LOCATION_TYPES = [
  'forest',
  'mountain',
  'swamp',
  'desert',
  'road',
  'cave',
  'coast',
  'ruins',
] as const;
