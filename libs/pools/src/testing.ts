/**
 * Test and benchmark helpers: valid items of every pool, and stocking a pool with them directly
 * (what a pool-filler run would have stored), for suites about claims rather than generation.
 */
import { randomUUID } from 'node:crypto';
import { type Sql } from '@fleet/db';
import { questRewardBounds, type PoolItems } from './items';
import { PoolStore } from './pool-store';
import { type PoolName } from './pools';

export interface SampleOptions {
  /** Quests: their level; dungeons: the recommended level. @defaultValue 1 */
  level?: number;
  /** Encounters. @defaultValue 'forest' */
  locationType?: PoolItems['encounters']['location_type'];
  /** Encounters. @defaultValue 1 */
  challengeRating?: number;
}

/** The `n`th item of a pool: valid for its schema, with a title unique by `n` (and `tag`). */
export function sampleItem<P extends PoolName>(
  pool: P,
  n: number,
  options: SampleOptions & { tag?: string } = {},
): PoolItems[P] {
  const title = `${options.tag ?? 'Sample'} ${pool} ${n}`;
  const level = options.level ?? 1;
  const items: { [K in PoolName]: () => PoolItems[K] } = {
    quests: () => ({
      title,
      description: `A test quest (${title}).`,
      objectives: [{ type: 'kill_enemies', target: 'wolves', count: 3 }],
      level,
      xp_reward: questRewardBounds(level).xp[0],
      gold_reward: questRewardBounds(level).gold[0],
    }),
    npcs: () => ({
      name: title,
      role: 'innkeeper',
      personality: 'warm and nosy',
      traits: ['kind', 'curious'],
      speech_style: 'fast and friendly',
      backstory: 'Ran away from a duke.',
    }),
    encounters: () => ({
      name: title,
      location_type: options.locationType ?? 'forest',
      challenge_rating: options.challengeRating ?? 1,
      enemies: [{ name: 'wolf', count: 2, challenge_rating: options.challengeRating ?? 1 }],
      description: 'Wolves circle the camp.',
    }),
    dungeons: () => ({
      name: title,
      description: 'A damp crypt.',
      recommended_level: level,
      rooms: [
        { name: 'Gate', description: 'Rusty bars.' },
        { name: 'Hall', description: 'Bones everywhere.' },
        { name: 'Vault', description: 'A sealed chest.' },
      ],
      encounters: [{ room: 'Hall', description: 'Skeletons rise.' }],
      loot: [{ name: 'Old coin', rarity: 'common' }],
    }),
    pois: () => ({
      name: title,
      kind: 'ruin',
      description: 'Broken pillars on a hill.',
      position: { x: n % 1000, y: Math.floor(n / 1000) % 1000 },
    }),
  };
  return items[pool]() as PoolItems[P];
}

/**
 * Stores `count` sample items in a pool (of `campaignSeed`, for POIs) under one made-up job id.
 * @returns that job id.
 */
export async function stockPool(
  sql: Sql,
  pool: PoolName,
  count: number,
  options: SampleOptions & { campaignSeed?: string; tag?: string; model?: string } = {},
): Promise<string> {
  const store = new PoolStore();
  const jobId = randomUUID();
  const tag = options.tag ?? jobId.slice(0, 8);
  for (let i = 0; i < count; i++) {
    const outcome = await store.insertItem(sql, pool, sampleItem(pool, i, { ...options, tag }), {
      jobId,
      itemIndex: i,
      model: options.model ?? 'sample',
      ...(options.campaignSeed ? { campaignSeed: options.campaignSeed } : {}),
    });
    if (outcome !== 'inserted') throw new Error(`stockPool: item ${i} of ${pool} was ${outcome}`);
  }
  return jobId;
}
