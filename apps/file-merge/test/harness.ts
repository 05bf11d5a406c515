/**
 * What the file-merge integration tests share: the bundled app run as child processes (the
 * artifact that ships), and per fixture a fresh topic namespace (`KAFKA_TOPIC_NAMESPACE`) and
 * consumer group, a fresh database schema with the api's upload tables, and a fresh MinIO bucket.
 * Uploads are set up as the api would (UploadStore + streamed chunk objects + startMerge); the
 * merge request is produced by the test instead of the api's outbox.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  dlqTopicOf,
  inNamespace,
  retryTopicOf,
  uploadMergeRequested,
  type MergeRequest,
  type TopicContract,
} from '@fleet/contracts';
import { inTransaction, sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, FleetProducer, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, type TopicRecording } from '@fleet/kafka/testing';
import { type ObjectStore } from '@fleet/object-store';
import { createTestBucket } from '@fleet/object-store/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { AppProcess, buildAppBundle } from '@fleet/service-kit/testing';
import {
  chunkKey,
  chunkPrefix,
  expectedChunkBytes,
  finalKey,
  MIN_CHUNK_BYTES,
  UPLOAD_MIGRATIONS,
  UploadStore,
  type StoredChunk,
  type Upload,
} from '@fleet/uploads';
import { Registry } from 'prom-client';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const MiB = 1024 * 1024;
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

export const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** An upload set up in the database and the bucket, and the bytes it stands for. */
export interface TestUpload {
  id: string;
  data: Buffer;
  sha256: string;
  chunks: StoredChunk[];
}

export interface UploadSpec {
  /** Byte length of each chunk, in order: every one but the last must be the same, ≥ 5 MiB. */
  parts: readonly number[];
  /** The sha256 the client announces: the real one, a wrong one, or none. @defaultValue 'right' */
  announce?: 'right' | 'wrong' | 'none';
  /** Call `startMerge` (UPLOADING → MERGING), as the api does on complete. @defaultValue true */
  startMerge?: boolean;
}

/** A row lock held by the test on one connection, and that connection's backend pid. */
export interface HeldLock {
  pid: number;
  release(): Promise<void>;
}

/** One isolated world per fixture: namespace (topics) and group, schema, bucket, Kafka clients. */
export class MergeFixture {
  readonly input: TopicContract<MergeRequest>;
  readonly group: string;
  readonly uploads = new UploadStore();
  private readonly workers: AppProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestSchema,
    readonly store: ObjectStore,
    private readonly bucketEnv: Record<string, string>,
    private readonly dropBucket: () => Promise<void>,
    readonly kafka: KafkaClient,
    readonly producer: FleetProducer,
    readonly dlq: TopicRecording,
    readonly retries: TopicRecording,
  ) {
    this.input = inNamespace(uploadMergeRequested, namespace);
    this.group = `file-merge-${namespace}`;
  }

  static async create(): Promise<MergeFixture> {
    buildAppBundle('file-merge');
    const namespace = `fm${randomBytes(4).toString('hex')}`;
    const db = await createTestSchema({
      url: DATABASE_URL,
      migrations: [...OUTBOX_MIGRATIONS, ...UPLOAD_MIGRATIONS],
    });
    const bucket = await createTestBucket();
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'file-merge-test',
      logger: captureLogger(VERBOSE),
    });
    const input = inNamespace(uploadMergeRequested, namespace);
    await provisionTopics(kafka, [input]);
    const producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    const dlq = await recordTopic(kafka, dlqTopicOf(input.name));
    const retries = await recordTopic(kafka, retryTopicOf(input.name));
    return new MergeFixture(
      namespace,
      db,
      bucket.store,
      bucket.env,
      () => bucket.drop(),
      kafka,
      producer,
      dlq,
      retries,
    );
  }

  /** The env a worker of this fixture runs with (before the test's overrides). */
  workerEnv(): Record<string, string> {
    return {
      DATABASE_URL,
      DATABASE_SCHEMA: this.db.schema,
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC_NAMESPACE: this.namespace,
      FILE_MERGE_GROUP: this.group,
      FILE_MERGE_RETRY_INITIAL_BACKOFF_MS: '300',
      ...this.bucketEnv,
      LOG_LEVEL: 'info',
    };
  }

  /**
   * Starts one worker replica and waits until it is ready (consumer groups joined), or only live
   * with `ready: 'live'` (a dependency is down on purpose).
   */
  async startWorker({ ready = 'ready', ...env }: Record<string, string> = {}): Promise<AppProcess> {
    const worker = await AppProcess.start({ app: 'file-merge', env: { ...this.workerEnv(), ...env } });
    this.workers.push(worker);
    await worker.waitForHealth(ready === 'live' ? '/health/live' : '/health/ready', 60_000);
    return worker;
  }

  /**
   * An upload as the api leaves it on complete: the row, each chunk streamed into its own attempt
   * object and recorded, then MERGING. The chunk size is the first part's.
   */
  async createUpload({ parts, announce = 'right', startMerge = true }: UploadSpec): Promise<TestUpload> {
    const id = randomUUID();
    const size = parts.reduce((sum, n) => sum + n, 0);
    const chunkSize = Math.max(parts[0]!, MIN_CHUNK_BYTES);
    const data = randomBytes(size);
    const sha256 = sha256Hex(data);
    const plan = { size, chunkSize, chunkCount: parts.length };
    parts.forEach((n, index) => {
      if (n !== expectedChunkBytes(plan, index))
        throw new Error(`part ${index} (${n} bytes) is off the plan`);
    });
    await this.uploads.create(this.sql(), {
      id,
      ownerId: 'user-test',
      filename: `file-${id.slice(0, 8)}.bin`,
      contentType: 'application/octet-stream',
      size,
      expectedSha256:
        announce === 'right' ? sha256 : announce === 'wrong' ? sha256Hex(Buffer.from(id)) : null,
      chunkSize,
      chunkCount: parts.length,
    });
    const chunks: StoredChunk[] = [];
    let offset = 0;
    for (const [index, n] of parts.entries()) {
      const bytes = data.subarray(offset, offset + n);
      offset += n;
      const objectKey = chunkKey(id, index, randomUUID());
      const stored = await this.store.putStream(objectKey, Readable.from([bytes]), n);
      const chunk = { index, size: stored.size, sha256: stored.sha256, objectKey };
      const recorded = await inTransaction(this.db.dataSource, (sql) =>
        this.uploads.recordChunk(sql, id, chunk),
      );
      if (recorded.outcome !== 'stored') throw new Error(`chunk ${index}: ${recorded.outcome}`);
      chunks.push(chunk);
    }
    if (startMerge) {
      const started = await inTransaction(this.db.dataSource, (sql) => this.uploads.startMerge(sql, id));
      if (started.outcome !== 'merging') throw new Error(`startMerge: ${started.outcome}`);
    }
    return { id, data, sha256, chunks };
  }

  /** One merge request record per id, keyed by `key` (default: the upload id, as the api keys it). */
  async requestMerge(uploadIds: readonly string[], key?: string): Promise<void> {
    await this.producer.send(
      this.input,
      uploadIds.map((uploadId) => ({
        key: key ?? uploadId,
        value: { uploadId, requestedAt: new Date().toISOString() },
        eventId: randomUUID(),
      })),
    );
  }

  async upload(id: string): Promise<Upload | undefined> {
    return this.uploads.get(this.sql(), id);
  }

  async waitForStatus(id: string, status: Upload['status'], timeoutMs = 60_000, poll = 200): Promise<Upload> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const upload = await this.upload(id);
      if (upload?.status === status) return upload;
      if (Date.now() > deadline) {
        throw new Error(
          `upload ${id} not ${status} within ${timeoutMs} ms (it is ${upload?.status}); worker logs: ${this.logFiles()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, poll));
    }
  }

  async chunkRows(id: string): Promise<StoredChunk[]> {
    return this.uploads.chunks(this.sql(), id);
  }

  /** Every object of the upload (chunks and final file). */
  async objectsOf(id: string): Promise<string[]> {
    return this.store.list(`uploads/${id}/`);
  }

  async chunkObjects(id: string): Promise<string[]> {
    return this.store.list(chunkPrefix(id));
  }

  /** The final object's bytes, or undefined when there is none. */
  async finalBytes(id: string): Promise<Buffer | undefined> {
    if (!(await this.store.stat(finalKey(id)))) return undefined;
    const parts: Buffer[] = [];
    for await (const part of await this.store.get(finalKey(id))) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * Locks rows with `SELECT … FOR UPDATE` in a transaction left open on a connection of its own,
   * so a worker's statement on them waits until `release()` (rollback).
   */
  async lockRows(query: string, values: readonly unknown[]): Promise<HeldLock> {
    const runner = this.db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const locked = (await runner.query(query, [...values])) as unknown[];
    if (locked.length === 0) throw new Error(`nothing to lock: ${query}`);
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
    return {
      pid,
      async release() {
        if (runner.isReleased) return;
        await runner.rollbackTransaction();
        await runner.release();
      },
    };
  }

  /** Backends (worker connections) waiting for a lock the test's `pid` holds. */
  async blockedBy(pid: number): Promise<number[]> {
    const rows = await this.db.dataSource.query<Array<{ pid: number }>>(
      `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
      [pid],
    );
    return rows.map((r) => r.pid);
  }

  /**
   * Ends the backends waiting on the test's lock. A SIGKILLed worker's statement keeps waiting in
   * PostgreSQL, which only notices the dead client when it next writes to it; without this the
   * orphaned statement would still run once the lock goes, which is not what a crash before the
   * statement looks like.
   */
  async terminateBlockedBy(pid: number): Promise<number> {
    const rows = await this.db.dataSource.query<Array<{ ended: boolean }>>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
      [pid],
    );
    return rows.filter((r) => r.ended).length;
  }

  /** DLQ records of one upload (matched by the upload id in the original value). */
  dlqFor(id: string) {
    return this.dlq.messages.filter((m) => m.value?.toString().includes(id));
  }

  retriesFor(id: string) {
    return this.retries.messages.filter((m) => m.value?.toString().includes(id));
  }

  logFiles(): string {
    return this.workers.map((w) => w.logFile).join(', ');
  }

  private sql(): Sql {
    return sqlOf(this.db.dataSource.manager);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.dlq.stop();
    await this.retries.stop();
    await this.producer.disconnect();
    await this.db.drop();
    await this.dropBucket();
  }
}
