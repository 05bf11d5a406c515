import {
  campaignSeedSchema,
  characterIdSchema,
  LOCATION_TYPES,
  locationSchema,
  MAX_LEVEL,
  POOL_JOB_KINDS,
  POOLS,
  poolJobInputSchemas,
  SEED_PRIORITY,
  type Campaign,
  type PoolLevel,
} from '@fleet/pools';
import { z } from 'zod';

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'required' : `expected ${what}`;

const level = z
  .number({ error: required('an integer') })
  .int()
  .min(1)
  .max(MAX_LEVEL);
const characterId = characterIdSchema.meta({
  description: 'The character (or player) the item goes to; 1–200 printable characters, no spaces.',
});
const campaignSeed = campaignSeedSchema.meta({
  description: 'A campaign created with POST /v1/campaigns.',
});
const location = locationSchema.meta({ description: 'Where the item spawns, in map coordinates.' });

/**
 * The job parameters of the seed, per job type. The count cap is the pool-filler's
 * POOL_MAX_JOB_COUNT, which only the database knows (`worker_job_settings`): the SQL function
 * checks it and the api answers its refusal as 400 naming `body.params.count`.
 */
const paramsOf = poolJobInputSchemas(Number.MAX_SAFE_INTEGER);

/** `POST /v1/pool-jobs`: one of the seed's worker jobs, as `enqueue_worker_job` takes it. */
export const createPoolJobSchema = z
  .object({
    jobType: z.enum(POOL_JOB_KINDS).meta({ description: "The seed's job type." }),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description:
          "The seed's parameters, named as in the seed: generate_quests {count, level_range: [lo, hi]}, " +
          'generate_npcs {count}, generate_encounters {count, cr_range: [lo, hi]}, generate_dungeons {count}, ' +
          'generate_pois {campaign_seed, count}, summarize_session {character_id, message_count}; none for ' +
          'check_all_pools. count is at most the deployment’s POOL_MAX_JOB_COUNT.',
      }),
    priority: z
      .number()
      .int()
      .min(SEED_PRIORITY.min)
      .max(SEED_PRIORITY.max)
      .default(SEED_PRIORITY.default)
      .meta({ description: '1 (highest) to 10 (lowest), as in the seed; default 5.' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const parsed = paramsOf[body.jobType].safeParse(body.params ?? {});
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      ctx.addIssue({ code: 'custom', path: ['params', ...issue.path], message: issue.message });
    }
  });
export type CreatePoolJobInput = z.output<typeof createPoolJobSchema>;

export const createdPoolJobSchema = z.object({
  jobId: z.uuid().meta({
    description:
      'The job: follow it at GET /v1/jobs/{jobId}. A check_all_pools while another one waits answers that one.',
  }),
  jobType: z.enum(POOL_JOB_KINDS),
  priority: z.number().int(),
});
export type CreatedPoolJob = z.infer<typeof createdPoolJobSchema>;

export const poolLevelSchema = z.object({
  pool: z.enum(POOLS),
  campaignSeed: z.string().nullable().meta({ description: 'For pois: the campaign; null otherwise.' }),
  available: z.number().int(),
  claimed: z.number().int(),
  minSize: z.number().int(),
  batchSize: z.number().int(),
  belowMinimum: z.boolean(),
  pendingJobs: z.number().int().meta({ description: 'Generation jobs of this pool waiting.' }),
  runningJobs: z.number().int().meta({ description: 'Generation jobs of this pool running now.' }),
});
export const poolLevelsSchema = z.object({ pools: z.array(poolLevelSchema) });
export type PoolLevelsView = z.infer<typeof poolLevelsSchema>;

export const toPoolLevelView = (level: PoolLevel): z.infer<typeof poolLevelSchema> => ({
  pool: level.pool,
  campaignSeed: level.campaignSeed ?? null,
  available: level.available,
  claimed: level.claimed,
  minSize: level.minSize,
  batchSize: level.batchSize,
  belowMinimum: level.available < level.minSize,
  pendingJobs: level.pendingJobs,
  runningJobs: level.runningJobs,
});

// Claims.

export const claimQuestSchema = z
  .object({
    characterId,
    minLevel: level.default(1),
    maxLevel: level.default(MAX_LEVEL),
    location: location.optional(),
  })
  .strict()
  .refine((body) => body.minLevel <= body.maxLevel, {
    path: ['maxLevel'],
    message: 'expected minLevel <= maxLevel (the level range is inverted)',
  });
export const claimNpcSchema = z
  .object({
    campaignSeed,
    location: location.optional(),
    characterId: characterId.optional(),
  })
  .strict();
export const claimEncounterSchema = z
  .object({
    characterId,
    locationType: z.enum(LOCATION_TYPES),
    playerLevel: level.meta({ description: 'Encounters of CR 0.5×–1.5× this level fit (the seed’s rule).' }),
    campaignSeed: campaignSeed.optional(),
    location: location.optional(),
  })
  .strict();
export const claimDungeonSchema = z
  .object({ characterId, campaignSeed: campaignSeed.optional(), location: location.optional() })
  .strict();
export const claimPoiSchema = z.object({ campaignSeed, characterId }).strict();

export type ClaimQuestInput = z.output<typeof claimQuestSchema>;
export type ClaimNpcInput = z.output<typeof claimNpcSchema>;
export type ClaimEncounterInput = z.output<typeof claimEncounterSchema>;
export type ClaimDungeonInput = z.output<typeof claimDungeonSchema>;
export type ClaimPoiInput = z.output<typeof claimPoiSchema>;

export const claimedItemSchema = z.object({
  pool: z.enum(POOLS),
  item: z
    .record(z.string(), z.unknown())
    .meta({ description: "The item, `id` and the seed's fields (quest: title, objectives, xp_reward …)." }),
  available: z.number().int().meta({ description: 'Items left in the pool (of the campaign, for pois).' }),
  refillJobId: z.uuid().nullable().meta({
    description: 'The refill job this claim enqueued or found, when the pool is below its minimum.',
  }),
});
export type ClaimedItem = z.infer<typeof claimedItemSchema>;

// Campaigns.

export const createCampaignSchema = z
  .object({
    campaignSeed,
    name: z.string().trim().min(1).max(200).meta({ description: '1–200 characters.' }),
    projectId: z
      .uuid()
      .optional()
      .meta({ description: 'A map_generation job: its export bundles carry this campaign’s content.' }),
  })
  .strict();
export type CreateCampaignInput = z.output<typeof createCampaignSchema>;

export const campaignViewSchema = z.object({
  campaignSeed: z.string(),
  name: z.string(),
  active: z.boolean(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  projectId: z.uuid().nullable(),
});
export const campaignsSchema = z.object({ campaigns: z.array(campaignViewSchema) });
export type CampaignView = z.infer<typeof campaignViewSchema>;

export const toCampaignView = (campaign: Campaign): CampaignView => ({
  campaignSeed: campaign.campaignSeed,
  name: campaign.name,
  active: campaign.active,
  createdBy: campaign.createdBy,
  createdAt: campaign.createdAt.toISOString(),
  projectId: campaign.projectId,
});
