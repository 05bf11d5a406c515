/**
 * What the pool-filler integration tests share: the bundled worker run as child processes (the
 * artifact that ships), the bundled outbox-poller publishing the jobs' requests (as in
 * production: the SQL functions and `JobStore` write a job and its request in one transaction),
 * the fake LLM in the test process, and per fixture a fresh topic namespace, consumer group and
 * database schema migrated by the api's own migrate command (the api owns these tables).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  dlqTopicOf,
  inNamespace,
  poolJobRequested,
  type JobRequest,
  type TopicContract,
} from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, type TopicRecording } from '@fleet/kafka/testing';
import { JobStore, type Job } from '@fleet/jobs';
import { FakeLlmServer, type FakeLlmServerOptions } from '@fleet/llm/testing';
import { PoolStore, POOLS, POOL_TABLES, type PoolName } from '@fleet/pools';
import { AppProcess, WORKSPACE_ROOT } from '@fleet/service-kit/testing';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const MODEL = 'fake-7b-instruct';
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

let migrateBundle: string | undefined;
/** The api's migrate command, bundled once per test process. */
function apiMigrate(): string {
  if (!migrateBundle) {
    migrateBundle = join(WORKSPACE_ROOT, 'dist/test/api-migrate/migrate.js');
    execFileSync(process.execPath, ['tools/build.mjs', 'apps/api/src/migrate.ts', migrateBundle], {
      cwd: WORKSPACE_ROOT,
      stdio: VERBOSE ? 'inherit' : 'ignore',
    });
  }
  return migrateBundle;
}

export interface FixtureOptions {
  /** Options of the fake LLM. @defaultValue fast (5000 tokens/s), model `fake-7b-instruct` */
  llm?: FakeLlmServerOptions;
  /** Small pools so tests are quick: POOL_<POOL>_MIN / _BATCH for every worker of the fixture. */
  sizes?: Partial<Record<PoolName, { minSize: number; batchSize: number }>>;
}

/** One isolated world per fixture. */
export class PoolFixture {
  readonly topic: TopicContract<JobRequest>;
  readonly group: string;
  readonly jobs = new JobStore();
  readonly pools = new PoolStore();
  private readonly processes: AppProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestSchema,
    readonly kafka: KafkaClient,
    readonly dlq: TopicRecording,
    readonly llm: FakeLlmServer,
    readonly poller: AppProcess,
    private readonly sizes: FixtureOptions['sizes'],
  ) {
    this.topic = inNamespace(poolJobRequested, namespace);
    this.group = `pool-filler-${namespace}`;
    this.processes.push(poller);
  }

  static async create(options: FixtureOptions = {}): Promise<PoolFixture> {
    const namespace = `pool${randomBytes(4).toString('hex')}`;
    const db = await createTestSchema({ url: DATABASE_URL });
    execFileSync(process.execPath, [apiMigrate(), 'up'], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, DATABASE_URL, DATABASE_SCHEMA: db.schema, LOG_LEVEL: 'warn' },
      stdio: VERBOSE ? 'inherit' : 'ignore',
    });
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'pool-filler-test',
      logger: captureLogger(VERBOSE),
    });
    const topic = inNamespace(poolJobRequested, namespace);
    await provisionTopics(kafka, [topic]);
    const dlq = await recordTopic(kafka, dlqTopicOf(topic.name));
    const llm = await FakeLlmServer.start({ models: [MODEL], tokensPerSecond: 5_000, ...options.llm });
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
    const fixture = new PoolFixture(namespace, db, kafka, dlq, llm, poller, options.sizes);
    // What a booted pool-filler writes; tests that enqueue before starting a worker need it.
    await fixture.pools.applySettings(fixture.sql(), {
      sizes: { ...defaultSizes(), ...options.sizes },
      requestTopic: topic.name,
      maxJobCount: 100,
      maxAttempts: 3,
    });
    return fixture;
  }

  /** The env a worker of this fixture runs with (before the test's overrides). */
  workerEnv(): Record<string, string> {
    const sizes = Object.entries({ ...defaultSizes(), ...this.sizes }).flatMap(([pool, s]) => [
      [`POOL_${pool.toUpperCase()}_MIN`, String(s.minSize)],
      [`POOL_${pool.toUpperCase()}_BATCH`, String(s.batchSize)],
    ]);
    return {
      DATABASE_URL,
      DATABASE_SCHEMA: this.db.schema,
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC_NAMESPACE: this.namespace,
      REDIS_URL,
      POOL_FILLER_GROUP: this.group,
      POOL_FILLER_RETRY_INITIAL_BACKOFF_MS: '300',
      POOL_CHECK_ON_START: 'false',
      JOB_REAPER_INTERVAL_MS: '1000',
      LOCAL_LLM_ENDPOINT: this.llm.url,
      LOCAL_LLM_MODEL: MODEL,
      LOG_LEVEL: 'info',
      ...Object.fromEntries(sizes),
    };
  }

  /** Starts one worker replica and waits until it is ready (consumer group joined). */
  async startWorker(env: Record<string, string> = {}): Promise<AppProcess> {
    const worker = await AppProcess.start({ app: 'pool-filler', env: { ...this.workerEnv(), ...env } });
    this.processes.push(worker);
    await worker.waitForHealth('/health/ready', 60_000);
    return worker;
  }

  sql(): Sql {
    return sqlOf(this.db.dataSource.manager);
  }

  async campaign(seed: string): Promise<void> {
    await this.pools.createCampaign(this.sql(), {
      campaignSeed: seed,
      name: `Campaign ${seed}`,
      createdBy: 'test',
    });
  }

  /** `enqueue_worker_job`, as operators and the api call it. */
  async enqueue(kind: string, params: unknown = null, priority = 5): Promise<string> {
    return this.pools.enqueueJob(this.sql(), { kind, params, priority, ownerId: 'test' });
  }

  async job(id: string): Promise<Job> {
    const job = await this.jobs.get(this.sql(), id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  async available(pool: PoolName, campaignSeed?: string): Promise<number> {
    return this.pools.available(this.sql(), pool, campaignSeed);
  }

  /** All items of a pool (claimed ones too). */
  async itemCount(pool: PoolName): Promise<number> {
    const [row] = await this.sql().rows<{ n: string }>(`SELECT count(*) AS n FROM ${POOL_TABLES[pool]}`);
    return Number(row!.n);
  }

  async waitForJob(id: string, statuses: readonly Job['status'][], timeoutMs = 60_000): Promise<Job> {
    return this.waitUntil(
      async () => {
        const job = await this.job(id);
        return statuses.includes(job.status) ? job : undefined;
      },
      timeoutMs,
      async () => `job ${id} not ${statuses.join('|')} (it is ${(await this.job(id)).status})`,
    );
  }

  /** Polls `probe` until it returns a value. */
  async waitUntil<T>(
    probe: () => Promise<T | undefined | false>,
    timeoutMs: number,
    what: () => Promise<string> | string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline)
        throw new Error(`${await what()} within ${timeoutMs} ms; logs: ${this.logFiles()}`);
      await sleep(150);
    }
  }

  /** Jobs of the pool kinds, oldest first. */
  async poolJobs(): Promise<Job[]> {
    const rows = await this.sql().rows<{ id: string }>(`SELECT id FROM jobs ORDER BY created_at, id`);
    return Promise.all(rows.map((r) => this.job(r.id)));
  }

  logFiles(): string {
    return this.processes.map((p) => p.logFile).join(', ');
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.dlq.stop();
    await this.llm.stop();
    await this.db.drop();
  }
}

function defaultSizes(): Record<PoolName, { minSize: number; batchSize: number }> {
  return Object.fromEntries(POOLS.map((p) => [p, { minSize: 0, batchSize: 1 }])) as Record<
    PoolName,
    { minSize: number; batchSize: number }
  >;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
