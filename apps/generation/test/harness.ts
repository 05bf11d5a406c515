/**
 * What the generation integration tests share: the bundled worker run as child processes (the
 * artifact that ships), the bundled outbox-poller publishing the jobs' requests from the outbox (as
 * in production: `JobStore.create` writes the row and its request in one transaction; the reaper
 * and shutdown releases requeue through the outbox too), the fake LLM in the test process, and per
 * fixture a fresh topic namespace and consumer group, database schema (the api's tables: outbox,
 * jobs, stories, uploads) and MinIO bucket.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  dlqTopicOf,
  generationJobRequested,
  inNamespace,
  type JobRequest,
  type JobEvent,
  type TopicContract,
} from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, type TopicRecording } from '@fleet/kafka/testing';
import { JOB_MIGRATIONS, JobEvents, JobStore, type Job } from '@fleet/jobs';
import { FakeLlmServer, type FakeLlmServerOptions } from '@fleet/llm/testing';
import { type ObjectStore } from '@fleet/object-store';
import { createTestBucket } from '@fleet/object-store/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, type RedisClient } from '@fleet/redis';
import { AppProcess, buildAppBundle } from '@fleet/service-kit/testing';
import { localScores, STORY_MIGRATIONS, StoryStore, type Story } from '@fleet/stories';
import { UPLOAD_MIGRATIONS } from '@fleet/uploads';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const MODEL = 'fake-7b-instruct';
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface FixtureOptions {
  /** Options of the fake LLM. @defaultValue fast (2000 tokens/s), model `fake-7b-instruct` */
  llm?: FakeLlmServerOptions;
}

/** One isolated world per fixture. */
export class GenerationFixture {
  readonly topic: TopicContract<JobRequest>;
  readonly group: string;
  readonly jobs = new JobStore();
  readonly stories = new StoryStore();
  readonly events: JobEvents;
  private readonly processes: AppProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestSchema,
    readonly objects: ObjectStore,
    private readonly bucketEnv: Record<string, string>,
    private readonly dropBucket: () => Promise<void>,
    readonly kafka: KafkaClient,
    readonly dlq: TopicRecording,
    readonly llm: FakeLlmServer,
    readonly redis: RedisClient,
    readonly poller: AppProcess,
  ) {
    this.topic = inNamespace(generationJobRequested, namespace);
    this.group = `generation-${namespace}`;
    this.events = new JobEvents(redis);
    this.processes.push(poller);
  }

  static async create(options: FixtureOptions = {}): Promise<GenerationFixture> {
    buildAppBundle('generation');
    const namespace = `gen${randomBytes(4).toString('hex')}`;
    const db = await createTestSchema({
      url: DATABASE_URL,
      migrations: [...OUTBOX_MIGRATIONS, ...JOB_MIGRATIONS, ...STORY_MIGRATIONS, ...UPLOAD_MIGRATIONS],
    });
    const bucket = await createTestBucket();
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'generation-test',
      logger: captureLogger(VERBOSE),
    });
    const topic = inNamespace(generationJobRequested, namespace);
    await provisionTopics(kafka, [topic]);
    const dlq = await recordTopic(kafka, dlqTopicOf(topic.name));
    const llm = await FakeLlmServer.start({ models: [MODEL], tokensPerSecond: 2_000, ...options.llm });
    const redis = createRedisClient({ url: REDIS_URL, connectionName: 'generation-test', logger: silent });
    const poller = await AppProcess.start({
      app: 'outbox-poller',
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: db.schema,
        KAFKA_BROKERS: BROKERS,
        REDIS_URL,
        OUTBOX_POLL_INTERVAL_MS: '200',
        LOG_LEVEL: 'warn',
      },
    });
    await poller.waitForHealth('/health/live', 60_000);
    return new GenerationFixture(
      namespace,
      db,
      bucket.store,
      bucket.env,
      () => bucket.drop(),
      kafka,
      dlq,
      llm,
      redis,
      poller,
    );
  }

  /** The env a worker of this fixture runs with (before the test's overrides). */
  workerEnv(): Record<string, string> {
    return {
      DATABASE_URL,
      DATABASE_SCHEMA: this.db.schema,
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC_NAMESPACE: this.namespace,
      REDIS_URL,
      GENERATION_GROUP: this.group,
      GENERATION_RETRY_INITIAL_BACKOFF_MS: '500',
      JOB_REAPER_INTERVAL_MS: '1000',
      LOCAL_LLM_ENDPOINT: this.llm.url,
      LOCAL_LLM_MODEL: MODEL,
      ...this.bucketEnv,
      LOG_LEVEL: 'info',
    };
  }

  /** Starts one worker replica and waits until it is ready (consumer groups joined), or only live. */
  async startWorker({ ready = 'ready', ...env }: Record<string, string> = {}): Promise<AppProcess> {
    const worker = await AppProcess.start({ app: 'generation', env: { ...this.workerEnv(), ...env } });
    this.processes.push(worker);
    await worker.waitForHealth(ready === 'live' ? '/health/live' : '/health/ready', 60_000);
    return worker;
  }

  sql(): Sql {
    return sqlOf(this.db.dataSource.manager);
  }

  /** A story with local scores and its enhancement job, as the api creates them: one transaction. */
  async createStory(
    overrides: { title?: string; content?: string } = {},
  ): Promise<{ story: Story; job: Job }> {
    const title = overrides.title ?? 'Startup claims its AI chip is 100x faster than anything else';
    const content =
      overrides.content ??
      'A startup announced a revolutionary AI accelerator that it says will change computing forever. No benchmarks were published.';
    const storyId = randomUUID();
    const jobId = randomUUID();
    const local = localScores({ title, content });
    return this.db.dataSource.transaction(async (tx) => {
      const story = await this.stories.create(sqlOf(tx), {
        id: storyId,
        ownerId: 'user-test',
        title,
        content,
        hypeScore: local.hypeScore,
        ethicsScore: local.ethicsScore,
        enhancementJobId: jobId,
      });
      const { job } = await this.jobs.create(
        tx,
        { id: jobId, kind: 'story_enhancement', ownerId: 'user-test', input: { storyId } },
        this.topic,
      );
      return { story, job };
    });
  }

  async createMapJob(document: string, filename = 'world.md'): Promise<Job> {
    return this.db.dataSource.transaction(async (tx) => {
      const { job } = await this.jobs.create(
        tx,
        { kind: 'map_generation', ownerId: 'user-test', input: { document, filename } },
        this.topic,
      );
      return job;
    });
  }

  async job(id: string): Promise<Job> {
    const job = await this.jobs.get(this.sql(), id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  async story(id: string): Promise<Story> {
    const story = await this.stories.get(this.sql(), id);
    if (!story) throw new Error(`no story ${id}`);
    return story;
  }

  async waitForJob(id: string, statuses: readonly Job['status'][], timeoutMs = 60_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(id);
      if (statuses.includes(job.status)) return job;
      if (Date.now() > deadline) {
        throw new Error(
          `job ${id} not ${statuses.join('|')} within ${timeoutMs} ms (it is ${job.status}, error ${job.error}); logs: ${this.logFiles()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async replay(jobId: string): Promise<JobEvent[]> {
    return this.events.replay(jobId, 0);
  }

  /** DLQ records of one job (matched by the job id in the original value). */
  dlqFor(jobId: string) {
    return this.dlq.messages.filter((m) => m.value?.toString().includes(jobId));
  }

  async objectText(key: string): Promise<string> {
    const parts: Buffer[] = [];
    for await (const part of await this.objects.get(key)) parts.push(part as Buffer);
    return Buffer.concat(parts).toString('utf8');
  }

  logFiles(): string {
    return this.processes.map((p) => p.logFile).join(', ');
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.dlq.stop();
    await this.llm.stop();
    await this.db.drop();
    await this.dropBucket();
    await closeRedisClient(this.redis);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
