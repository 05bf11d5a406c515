import { sqlOf, type DataSource, type Sql } from '@fleet/db';
import { type Job } from '@fleet/jobs';
import { type LlmClient } from '@fleet/llm';
import { type StoryStore } from '@fleet/stories';
import { z } from 'zod';
import { JobRejected, type AttemptFailure, type JobAttempt, type JobKind } from '@fleet/job-worker';

export const STORY_ENHANCEMENT = 'story_enhancement';

/** A story enhancement job's input, as the api stores it. */
export const storyEnhancementInput = z.object({ storyId: z.string().uuid() });

/** What the LLM answers for a story (seed 003); also its JSON schema (strict: all required). */
export const StoryEnhancementSchema = z.object({
  hypeScore: z.number().min(0).max(10),
  ethicsScore: z.number().min(0).max(10),
  realityCheck: z.string().min(1).max(400),
  eli5Summary: z.string().min(1).max(400),
});
export type StoryEnhancementValue = z.infer<typeof StoryEnhancementSchema>;

export interface StoryEnhancementResult {
  storyId: string;
  enhancedScores: StoryEnhancementValue;
  /** Milliseconds the LLM took for the whole call (seed 003's `processingTime`). */
  processingTime: number;
}

const SYSTEM_PROMPT = [
  'You rate technology news stories. Answer with JSON only, matching the schema.',
  'hypeScore: 0 (sober) to 10 (pure hype). ethicsScore: 0 (no ethical concerns) to 10 (serious concerns).',
  'realityCheck: one or two sentences on what is actually demonstrated versus claimed.',
  'eli5Summary: the story explained to a ten-year-old in two sentences at most.',
].join('\n');

/** Longest story text sent to the model (characters); the rest is cut. */
const MAX_STORY_CHARS = 12_000;

/**
 * Story enhancement (seed 003): load the story, ask the LLM for its scores, apply them with the
 * processing time. Progress: load (10) → enhance (20) → save (90) → completed (100).
 *
 * Without an LLM the story keeps its local heuristic scores: when the job fails for good the story
 * is marked `LLM_UNAVAILABLE` (the LLM could not be reached) or `FAILED` (its output was unusable).
 */
export class StoryEnhancement implements JobKind {
  readonly kind = STORY_ENHANCEMENT;
  private readonly sql: Sql;

  constructor(private readonly deps: { dataSource: DataSource; stories: StoryStore; llm: LlmClient }) {
    this.sql = sqlOf(deps.dataSource.manager);
  }

  async run({ job, signal, progress }: JobAttempt): Promise<StoryEnhancementResult> {
    const { storyId } = parseInput(job);
    await progress(10, 'load');
    const story = await this.deps.stories.get(this.sql, storyId);
    if (!story) throw new JobRejected('STORY_NOT_FOUND', `story ${storyId} does not exist`);

    await progress(20, 'enhance');
    const answer = await this.deps.llm.completeJson({
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        {
          role: 'user',
          content: `Title: ${story.title}\n${story.sectorTag ? `Sector: ${story.sectorTag}\n` : ''}\n${story.content.slice(0, MAX_STORY_CHARS)}`,
        },
      ],
      schema: StoryEnhancementSchema,
      schemaName: 'story_enhancement',
      temperature: 0.2,
      maxTokens: 600,
      signal,
    });
    signal.throwIfAborted();

    await progress(90, 'save');
    const processingTime = Math.round(answer.durationMs);
    const updated = await this.deps.stories.applyEnhancement(this.sql, storyId, answer.value, processingTime);
    if (!updated)
      throw new JobRejected('STORY_NOT_FOUND', `story ${storyId} was deleted during its enhancement`);
    return { storyId, enhancedScores: answer.value, processingTime };
  }

  async onFailed(job: Job, failure: AttemptFailure): Promise<void> {
    const input = storyEnhancementInput.safeParse(job.input);
    if (!input.success) return;
    const elapsed = job.finishedAt && job.startedAt ? job.finishedAt.getTime() - job.startedAt.getTime() : 0;
    await this.deps.stories.markNotEnhanced(
      this.sql,
      input.data.storyId,
      failure.code === 'LLM_UNAVAILABLE' ? 'LLM_UNAVAILABLE' : 'FAILED',
      Math.max(0, elapsed),
    );
  }
}

function parseInput(job: Job): z.infer<typeof storyEnhancementInput> {
  const input = storyEnhancementInput.safeParse(job.input);
  if (!input.success) {
    throw new JobRejected(
      'INPUT_INVALID',
      `story_enhancement input: ${input.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return input.data;
}
