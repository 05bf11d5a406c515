import { JOB_STATUSES } from '@fleet/contracts';
import { type Job, type JobKindStats } from '@fleet/jobs';
import { type Story } from '@fleet/stories';
import { z } from 'zod';

/** The job kinds the api creates; the `generation` worker runs them. */
export const JOB_KINDS = {
  storyEnhancement: 'story_enhancement',
  mapGeneration: 'map_generation',
} as const;

/** Longest story title, in Unicode characters (the `stories` table's CHECK counts the same way). */
export const TITLE_MAX_CHARS = 300;
export const TAG_MAX_CHARS = 100;
export const IMPACT_TAGS_MAX = 20;

const chars = (value: string) => [...value].length;

const tagSchema = z
  .string()
  .trim()
  .min(1)
  .refine((tag) => chars(tag) <= TAG_MAX_CHARS, `at most ${TAG_MAX_CHARS} characters`);

/**
 * `POST /v1/stories` body. `content` is limited in UTF-8 bytes by `STORY_CONTENT_MAX_BYTES`, checked
 * by the use case (the limit is configuration, so 413 rather than a schema issue).
 */
export const createStorySchema = z
  .object({
    title: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') })
      .trim()
      .min(1, 'must not be empty')
      .refine((title) => chars(title) <= TITLE_MAX_CHARS, `at most ${TITLE_MAX_CHARS} characters`)
      .meta({ description: `1–${TITLE_MAX_CHARS} characters (surrounding whitespace trimmed).` }),
    content: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') })
      .refine((content) => content.trim().length > 0, 'must not be empty')
      .meta({ description: 'The story; at most STORY_CONTENT_MAX_BYTES UTF-8 bytes (else 413).' }),
    sectorTag: tagSchema.optional().meta({ description: `1–${TAG_MAX_CHARS} characters.` }),
    impactTags: z
      .array(tagSchema)
      .max(IMPACT_TAGS_MAX)
      .optional()
      .meta({ description: `Up to ${IMPACT_TAGS_MAX} tags of 1–${TAG_MAX_CHARS} characters.` }),
  })
  .strict();
export type CreateStoryInput = z.output<typeof createStorySchema>;

export const storyViewSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  content: z.string(),
  sectorTag: z.string().nullable(),
  impactTags: z.array(z.string()),
  hypeScore: z.number().meta({ description: '0–10, one decimal.' }),
  ethicsScore: z.number().meta({ description: '0–10, one decimal; 10 = no ethical concern.' }),
  realityCheck: z.string().nullable(),
  eli5Summary: z.string().nullable(),
  scoresSource: z.enum(['local', 'llm']).meta({
    description: "'local': the heuristic scores given at creation; 'llm': the enhancement replaced them.",
  }),
  enhancementStatus: z.enum(['PENDING', 'ENHANCED', 'LLM_UNAVAILABLE', 'FAILED']),
  enhancementJobId: z.uuid().nullable(),
  processingTimeMs: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type StoryView = z.infer<typeof storyViewSchema>;

export const createdStorySchema = z.object({
  story: storyViewSchema,
  jobId: z.uuid().meta({ description: 'The story_enhancement job: follow it at /v1/jobs/{jobId}.' }),
});
export type CreatedStory = z.infer<typeof createdStorySchema>;

export function toStoryView(story: Story): StoryView {
  return {
    id: story.id,
    title: story.title,
    content: story.content,
    sectorTag: story.sectorTag,
    impactTags: story.impactTags,
    hypeScore: story.hypeScore,
    ethicsScore: story.ethicsScore,
    realityCheck: story.realityCheck,
    eli5Summary: story.eli5Summary,
    scoresSource: story.scoresSource,
    enhancementStatus: story.enhancementStatus,
    enhancementJobId: story.enhancementJobId,
    processingTimeMs: story.processingTimeMs,
    createdAt: story.createdAt.toISOString(),
    updatedAt: story.updatedAt.toISOString(),
  };
}

export const acceptedJobSchema = z.object({
  jobId: z.uuid(),
  kind: z.string(),
  status: z.literal('PENDING'),
});
export type AcceptedJob = z.infer<typeof acceptedJobSchema>;

const downloadSchema = z.object({
  url: z.url().meta({ description: 'Presigned GET of the object store (Content-Disposition: attachment).' }),
  expiresAt: z.iso.datetime(),
});
export type ArtifactDownload = z.infer<typeof downloadSchema>;

export const jobViewSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().int().meta({ description: '0–100 within the current attempt.' }),
  stage: z.string().nullable(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  result: z.unknown().meta({ description: 'Set when COMPLETED; its shape depends on the kind.' }),
  error: z.string().nullable().meta({
    description: 'Why it failed or was cancelled, or why its last attempt ended without a result.',
  }),
  lastEventSeq: z.number().int().meta({
    description:
      'Seq of its latest progress event: connect to its events with lastSeq={this} for newer ones only.',
  }),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  updatedAt: z.iso.datetime(),
  downloads: z.object({ json: downloadSchema.optional(), svg: downloadSchema.optional() }).optional().meta({
    description:
      "A COMPLETED map_generation job: presigned URLs of its artifacts (the map's JSON model and SVG).",
  }),
});
export type JobView = z.infer<typeof jobViewSchema>;

export function toJobView(job: Job, downloads?: JobView['downloads']): JobView {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    stage: job.stage,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    result: job.result ?? null,
    error: job.error,
    lastEventSeq: job.lastEventSeq,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt.toISOString(),
    ...(downloads === undefined ? {} : { downloads }),
  };
}

export const jobStatsSchema = z.object({
  scope: z.literal('all').meta({ description: "Counts over every user's jobs (queue depth), never ids." }),
  kinds: z.array(
    z.object({
      kind: z.string(),
      total: z.number().int(),
      pending: z.number().int(),
      processing: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
  ),
});
export type JobStatsView = z.infer<typeof jobStatsSchema>;

export const toJobStatsView = (stats: JobKindStats[]): JobStatsView => ({ scope: 'all', kinds: stats });

/**
 * Object keys of a map job's artifacts in its `result.artifacts` (written by the generation
 * worker). Anything else there is ignored: the api only signs keys that look like object keys.
 */
export function mapArtifactKeys(result: unknown): { json?: string; svg?: string } {
  const artifacts = (result as { artifacts?: unknown } | null)?.artifacts;
  if (typeof artifacts !== 'object' || artifacts === null) return {};
  const key = (value: unknown) =>
    typeof value === 'string' && value.length > 0 && value.length <= 1024 && !value.startsWith('/')
      ? value
      : undefined;
  const { json, svg } = artifacts as Record<string, unknown>;
  return {
    ...(key(json) ? { json: key(json) } : {}),
    ...(key(svg) ? { svg: key(svg) } : {}),
  };
}
