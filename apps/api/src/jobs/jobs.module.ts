import { Module } from '@nestjs/common';
import { JobStore } from '@fleet/jobs';
import { StoryStore } from '@fleet/stories';
import { AuthGuard } from '../auth/auth.guard';
import { CancelJobController } from '../cancel-job/cancel-job.controller';
import { CancelJob } from '../cancel-job/cancel-job.use-case';
import { CreateMapJobController } from '../create-map-job/create-map-job.controller';
import { CreateMapJob } from '../create-map-job/create-map-job.use-case';
import { CreateStoryController } from '../create-story/create-story.controller';
import { CreateStory } from '../create-story/create-story.use-case';
import { GetJobController } from '../get-job/get-job.controller';
import { GetStoryController } from '../get-story/get-story.controller';
import { JobEventsSseController } from '../job-events/job-events-sse.controller';
import { JobEventsGateway } from '../job-events/job-events.gateway';
import { JobStatsController } from '../job-stats/job-stats.controller';
import { JobEventStreams } from './job-event-streams';

/**
 * The job platform's api (seeds 000, 003): stories with their enhancement job, map jobs from a
 * document, jobs (status, stats, cancel) and their live progress over WebSocket and SSE. The jobs
 * themselves run in the `generation` worker.
 */
@Module({
  controllers: [
    CreateStoryController,
    GetStoryController,
    CreateMapJobController,
    // Before GetJobController: `/v1/jobs/stats` is a route of its own, not a job id.
    JobStatsController,
    GetJobController,
    CancelJobController,
    JobEventsSseController,
  ],
  providers: [
    AuthGuard,
    { provide: JobStore, useFactory: () => new JobStore() },
    { provide: StoryStore, useFactory: () => new StoryStore() },
    JobEventStreams,
    JobEventsGateway,
    CreateStory,
    CreateMapJob,
    CancelJob,
  ],
  // The exports' routes cancel and report their jobs with the same store and event streams.
  exports: [JobStore, JobEventStreams, CancelJob],
})
export class JobsModule {}
