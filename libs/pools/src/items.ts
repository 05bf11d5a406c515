import { z } from 'zod';
import { LOCATION_TYPES, OBJECTIVE_TYPES, POI_KINDS, type PoolName } from './pools';

/** Width and height of a campaign's map in POI coordinates (the generation worker's map units). */
export const MAP_SIZE = 1000;

const text = (max: number) => z.string().trim().min(1).max(max);

/** XP and gold a quest of `level` may reward: level-appropriate, so a level 1 quest is no jackpot. */
export function questRewardBounds(level: number): { xp: [number, number]; gold: [number, number] } {
  return { xp: [25 * level, 150 * level], gold: [5 * level, 60 * level] };
}

/** The item schemas as the LLM answers them and the pools store them (seed 001's fields). */
export const questItem = z.object({
  title: text(120),
  description: text(600),
  objectives: z
    .array(
      z
        .object({ type: z.enum(OBJECTIVE_TYPES), target: text(80), count: z.number().int().min(1).max(50) })
        .strict(),
    )
    .min(1)
    .max(4),
  level: z.number().int().min(1).max(20),
  xp_reward: z.number().int().min(0).max(5000),
  gold_reward: z.number().int().min(0).max(2000),
});
export const npcItem = z.object({
  name: text(80),
  role: text(80),
  personality: text(400),
  traits: z.array(text(40)).min(2).max(6),
  speech_style: text(200),
  backstory: text(600),
});
export const encounterItem = z.object({
  name: text(120),
  location_type: z.enum(LOCATION_TYPES),
  challenge_rating: z.number().min(0).max(30),
  enemies: z
    .array(
      z
        .object({
          name: text(80),
          count: z.number().int().min(1).max(20),
          challenge_rating: z.number().min(0).max(30),
        })
        .strict(),
    )
    .min(1)
    .max(6),
  description: text(600),
});
export const dungeonItem = z.object({
  name: text(120),
  description: text(600),
  recommended_level: z.number().int().min(1).max(20),
  rooms: z
    .array(z.object({ name: text(80), description: text(300) }).strict())
    .min(3)
    .max(8),
  encounters: z
    .array(z.object({ room: text(80), description: text(300) }).strict())
    .min(1)
    .max(6),
  loot: z
    .array(z.object({ name: text(80), rarity: z.enum(['common', 'uncommon', 'rare', 'legendary']) }).strict())
    .min(1)
    .max(8),
});
export const poiItem = z.object({
  name: text(120),
  kind: z.enum(POI_KINDS),
  description: text(600),
  position: z.object({ x: z.number().min(0).max(MAP_SIZE), y: z.number().min(0).max(MAP_SIZE) }).strict(),
});

export interface PoolItems {
  quests: z.output<typeof questItem>;
  npcs: z.output<typeof npcItem>;
  encounters: z.output<typeof encounterItem>;
  dungeons: z.output<typeof dungeonItem>;
  pois: z.output<typeof poiItem>;
}
export type PoolItem = PoolItems[PoolName];

/** What one LLM call is asked to make within a job. */
export interface CallTarget {
  /** Quests: the level of this call's quests (a job spreads its calls over its level range). */
  level?: number;
  /** Encounters: the challenge rating range. */
  crRange?: readonly [number, number];
}

/**
 * The JSON schema of one call's answer, `{ items: [...] }` with exactly `count` items, narrowed to
 * the call's target (a quest call's level and its rewards, an encounter call's CR range): strict
 * structured output lets a constrained decoder stay inside it, and {@link rejectionOf} checks it
 * again on return, because not every server enforces numeric bounds.
 */
export function callSchema(pool: PoolName, count: number, target: CallTarget = {}) {
  const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item).min(count).max(count) });
  switch (pool) {
    case 'quests': {
      const level = target.level ?? 1;
      const { xp, gold } = questRewardBounds(level);
      return items(
        questItem.extend({
          level: z.number().int().min(level).max(level),
          xp_reward: z.number().int().min(xp[0]).max(xp[1]),
          gold_reward: z.number().int().min(gold[0]).max(gold[1]),
        }),
      );
    }
    case 'encounters': {
      const [lo, hi] = target.crRange ?? [0, 30];
      return items(encounterItem.extend({ challenge_rating: z.number().min(lo).max(hi) }));
    }
    case 'npcs':
      return items(npcItem);
    case 'dungeons':
      return items(dungeonItem);
    case 'pois':
      return items(poiItem);
  }
}

/**
 * What a call's answer must be before its items are looked at one by one: an object with an
 * `items` array (each item then checked with {@link itemSchemas} and {@link rejectionOf}).
 */
export const callAnswer = z.object({ items: z.array(z.unknown()).min(1).max(100) });

/** Each pool's item schema, without a call's narrowing. */
export const itemSchemas = {
  quests: questItem,
  npcs: npcItem,
  encounters: encounterItem,
  dungeons: dungeonItem,
  pois: poiItem,
} as const satisfies Record<PoolName, z.ZodType>;

/**
 * Why an item is refused, named for the `pool_items_rejected_total{reason}` metric: its shape
 * (`invalid_item`), the game's rules, or (decided by the database) a title already in the pool.
 */
export type RejectionReason =
  'invalid_item' | 'level_out_of_range' | 'reward_out_of_range' | 'cr_out_of_range' | 'duplicate';

/** Game rules an answer must follow beyond its shape; `undefined` when the item is acceptable. */
export function rejectionOf(
  pool: PoolName,
  item: PoolItem,
  target: CallTarget & { levelRange?: readonly [number, number] },
): Exclude<RejectionReason, 'invalid_item' | 'duplicate'> | undefined {
  if (pool === 'quests') {
    const quest = item as PoolItems['quests'];
    const [lo, hi] = target.levelRange ?? [1, 20];
    if (quest.level < lo || quest.level > hi) return 'level_out_of_range';
    const { xp, gold } = questRewardBounds(quest.level);
    if (quest.xp_reward < xp[0] || quest.xp_reward > xp[1]) return 'reward_out_of_range';
    if (quest.gold_reward < gold[0] || quest.gold_reward > gold[1]) return 'reward_out_of_range';
  }
  if (pool === 'encounters' && target.crRange) {
    const cr = (item as PoolItems['encounters']).challenge_rating;
    if (cr < target.crRange[0] || cr > target.crRange[1]) return 'cr_out_of_range';
  }
  return undefined;
}

/** The title a pool deduplicates on, as the tables' `normalized_title` computes it. */
export function normalizedTitle(pool: PoolName, item: PoolItem): string {
  const title = pool === 'quests' ? (item as PoolItems['quests']).title : (item as { name: string }).name;
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
