import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generationJobRequested, inNamespace } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { localScores, StoryStore } from '@fleet/stories';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type Config } from '../config';
import { ApiError } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { JOB_KINDS, toStoryView, type CreatedStory, type CreateStoryInput } from '../jobs/jobs.schemas';

/**
 * Creates a story (seed 003): validate (content within STORY_CONTENT_MAX_BYTES) → local heuristic
 * scores → in ONE transaction its `story_enhancement` job (row + `generation.job.requested.1` in the
 * outbox) and the story row naming that job. So a story exists exactly when its enhancement will be
 * requested; until the worker ran, the story shows its local scores.
 */
@Injectable()
export class CreateStory {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(StoryStore) private readonly stories: StoryStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(ownerId: string, input: CreateStoryInput): Promise<CreatedStory> {
    const bytes = Buffer.byteLength(input.content, 'utf8');
    if (bytes > this.config.STORY_CONTENT_MAX_BYTES) {
      throw new ApiError(
        413,
        'STORY_CONTENT_TOO_LARGE',
        `content is ${bytes} bytes (UTF-8); a story takes at most ${this.config.STORY_CONTENT_MAX_BYTES}`,
        { bytes, maxBytes: this.config.STORY_CONTENT_MAX_BYTES },
      );
    }
    const scores = localScores(input);
    const storyId = randomUUID();
    const topic = inNamespace(generationJobRequested, this.config.KAFKA_TOPIC_NAMESPACE);
    const { story, jobId } = await this.dataSource.transaction(async (tx) => {
      const { job } = await this.jobs.create(
        tx,
        {
          kind: JOB_KINDS.storyEnhancement,
          ownerId,
          input: { storyId },
          maxAttempts: this.config.JOB_MAX_ATTEMPTS,
        },
        topic,
      );
      const created = await this.stories.create(sqlOf(tx), {
        id: storyId,
        ownerId,
        title: input.title,
        content: input.content,
        sectorTag: input.sectorTag ?? null,
        impactTags: input.impactTags ?? [],
        ...scores,
        enhancementJobId: job.id,
      });
      return { story: created, jobId: job.id };
    });
    this.metrics.jobsCreated.inc({ kind: JOB_KINDS.storyEnhancement });
    return { story: toStoryView(story), jobId };
  }
}
