/**
 * What the upload-gc integration tests share: the bundled command run as a child process (the
 * artifact that ships), a fresh schema per test with the real uploads tables, uploads created
 * through `UploadStore` with real chunk objects in a fresh MinIO bucket, and backdated with SQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type UploadStatus } from '@fleet/contracts';
import { inTransaction, sqlOf, type QueryRunner } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { type createTestBucket } from '@fleet/object-store/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { buildAppBundle, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { chunkKey, chunkPrefix, finalKey, UPLOAD_MIGRATIONS, UploadStore, type Upload } from '@fleet/uploads';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const LOGS = join(WORKSPACE_ROOT, '.local/logs/tests');
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

export type TestBucket = Awaited<ReturnType<typeof createTestBucket>>;

/** An upload the test created, with what it put in the store. */
export interface SeededUpload {
  id: string;
  /** Keys of every object under the upload's chunk prefix (recorded chunks and leftovers). */
  keys: string[];
  /** Sum of those objects' sizes. */
  bytes: number;
}

export interface UploadSpec {
  /** Sizes of the chunks stored and recorded, indices 0, 1, … */
  chunkSizes: number[];
  /** How long ago the upload was created. @defaultValue 0 */
  ageHours?: number;
  /** How long ago its last chunk was stored. @defaultValue ageHours */
  idleHours?: number;
  /** MERGING and COMPLETED go through `startMerge` (and `markCompleted`). @defaultValue 'UPLOADING' */
  status?: Extract<UploadStatus, 'UPLOADING' | 'MERGING' | 'COMPLETED'>;
  /** @defaultValue chunkSizes.length + 1 (an upload abandoned half-way) unless MERGING/COMPLETED */
  chunkCount?: number;
}

const CHUNK_SIZE = 8_192;

/** One test's schema (fresh, with the uploads tables) on the file's bucket. */
export class GcFixture {
  readonly store = new UploadStore();

  private constructor(
    readonly db: TestSchema,
    readonly bucket: TestBucket,
  ) {}

  static async create(bucket: TestBucket): Promise<GcFixture> {
    const db = await createTestSchema({
      url: DATABASE_URL,
      migrations: [...OUTBOX_MIGRATIONS, ...UPLOAD_MIGRATIONS],
    });
    return new GcFixture(db, bucket);
  }

  /** What the command needs to work on this schema and bucket. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { DATABASE_URL, DATABASE_SCHEMA: this.db.schema, ...this.bucket.env, ...extra };
  }

  async upload(spec: UploadSpec): Promise<SeededUpload> {
    const { chunkSizes, ageHours = 0, idleHours = ageHours, status = 'UPLOADING' } = spec;
    const chunkCount =
      spec.chunkCount ?? (status === 'UPLOADING' ? chunkSizes.length + 1 : chunkSizes.length);
    const id = randomUUID();
    await this.store.create(sqlOf(this.db.dataSource.manager), {
      id,
      ownerId: 'alice',
      filename: 'holiday.mov',
      contentType: 'video/quicktime',
      size: chunkCount * CHUNK_SIZE,
      expectedSha256: null,
      chunkSize: CHUNK_SIZE,
      chunkCount,
    });
    const keys: string[] = [];
    for (const [index, size] of chunkSizes.entries()) {
      const data = randomBytes(size);
      const objectKey = chunkKey(id, index, randomUUID());
      await this.bucket.store.put(objectKey, data);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const recorded = await inTransaction(this.db.dataSource, (sql) =>
        this.store.recordChunk(sql, id, { index, size, sha256, objectKey }),
      );
      if (recorded.outcome !== 'stored') throw new Error(`chunk ${index} of ${id}: ${recorded.outcome}`);
      keys.push(objectKey);
    }
    if (status !== 'UPLOADING') {
      const merge = await inTransaction(this.db.dataSource, (sql) => this.store.startMerge(sql, id));
      if (merge.outcome !== 'merging') throw new Error(`merge of ${id}: ${merge.outcome}`);
      if (status === 'COMPLETED') {
        const done = await inTransaction(this.db.dataSource, (sql) =>
          this.store.markCompleted(sql, id, { finalKey: finalKey(id), sha256: 'f'.repeat(64) }),
        );
        if (!done) throw new Error(`completing ${id} failed`);
      }
    }
    await this.db.dataSource.query(
      `UPDATE uploads SET created_at = now() - $2 * interval '1 hour', last_activity_at = now() - $3 * interval '1 hour'
        WHERE id = $1`,
      [id, ageHours, idleHours],
    );
    return { id, keys, bytes: chunkSizes.reduce((sum, size) => sum + size, 0) };
  }

  /** An attempt object without a row (a lost race, or a crash before the row), under the upload's prefix. */
  async leftover(upload: SeededUpload, index: number, size: number): Promise<void> {
    const key = chunkKey(upload.id, index, randomUUID());
    await this.bucket.store.put(key, randomBytes(size));
    upload.keys.push(key);
    upload.bytes += size;
  }

  async row(id: string): Promise<Upload> {
    const upload = await this.store.get(sqlOf(this.db.dataSource.manager), id);
    if (!upload) throw new Error(`no upload ${id}`);
    return upload;
  }

  async chunkRows(id: string): Promise<number> {
    return (await this.store.chunks(sqlOf(this.db.dataSource.manager), id)).length;
  }

  async objects(id: string): Promise<string[]> {
    return (await this.bucket.store.list(chunkPrefix(id))).sort();
  }

  /**
   * Holds `LOCK TABLE uploads IN EXCLUSIVE MODE` in an open transaction: a run's claim
   * (`SELECT … FOR UPDATE`) waits on it, so the test decides when runs get going.
   */
  async lockUploads(): Promise<{ waiters(): Promise<number>; release(): Promise<void> }> {
    const runner: QueryRunner = this.db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('LOCK TABLE uploads IN EXCLUSIVE MODE');
    const table = `${this.db.schema}.uploads`;
    return {
      waiters: async () => {
        const [row] = (await this.db.dataSource.query(
          'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass',
          [table],
        )) as { n: number }[];
        return row?.n ?? 0;
      },
      release: async () => {
        if (runner.isReleased) return;
        await runner.commitTransaction();
        await runner.release();
      },
    };
  }

  drop(): Promise<void> {
    return this.db.drop();
  }
}

/** One finished run: exit, stdout (the metrics) and stderr (the JSON logs) apart. */
export interface GcRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A run of the command in progress. */
export interface RunningGc {
  child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  done: Promise<GcRun>;
}

// Variables of the test process that would leak into the command and blur what a test sets.
const OWN_VARIABLES = /^(DATABASE_|MINIO_|GC_|SERVICE_NAME$|LOG_LEVEL$|OTEL_)/;

/**
 * Starts the bundled command with `env` on top of the test process' env (minus the variables the
 * command reads, so a test that leaves one out really runs without it) and tracing off.
 */
export function startGc(env: Record<string, string>): RunningGc {
  const bundle = buildAppBundle('upload-gc');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !OWN_VARIABLES.test(name)),
  );
  const child = spawn(process.execPath, [bundle], {
    cwd: WORKSPACE_ROOT,
    env: { ...inherited, OTEL_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  mkdirSync(LOGS, { recursive: true });
  const log = createWriteStream(join(LOGS, `upload-gc-${child.pid}.log`));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    log.write(chunk);
    if (VERBOSE) process.stderr.write(`[upload-gc ${child.pid}] ${chunk.toString()}`);
  });
  const done = new Promise<GcRun>((resolve) =>
    child.on('close', (code, signal) => {
      log.end();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, stderr: () => stderr, done };
}

export function runGc(env: Record<string, string>): Promise<GcRun> {
  return startGc(env).done;
}

/** Sum of a metric's samples in Prometheus text whose labels include `labels`; undefined when absent. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

/** The JSON log lines of a run. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
