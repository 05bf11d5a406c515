import { SpanStatusCode, trace } from '@opentelemetry/api';
import { type MergeRequest } from '@fleet/contracts';
import { sqlOf, type DataSource, type Sql } from '@fleet/db';
import { type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { chunkPrefix, finalKey, type StoredChunk, type Upload, type UploadStore } from '@fleet/uploads';
import { chunkProblem } from './chunk-check';
import {
  io,
  isNoSuchObject,
  MergeRejected,
  MergeUnavailable,
  messageOf,
  unavailable,
  withDeadline,
  type PermanentCode,
} from './merge.errors';
import { type MergeMetrics, type MergeOutcome } from './merge.metrics';

const tracer = trace.getTracer('file-merge');

/** Chunk objects checked at once when a compose says one is missing. */
const STAT_CONCURRENCY = 16;

export interface MergeUploadOptions {
  /** The api's database (`uploads`, `upload_chunks`). */
  dataSource: DataSource;
  uploads: UploadStore;
  objects: ObjectStore;
  metrics: MergeMetrics;
  logger: Logger;
  /** Part copies MinIO runs at once for one compose (`MERGE_COMPOSE_CONCURRENCY`). @defaultValue 10 */
  composeConcurrency: number;
  /** Deadline of one merge (`FILE_MERGE_TIMEOUT_MS`); past it the request is retried. */
  timeoutMs: number;
}

/** Outcomes that leave the request acknowledged without this run completing the upload. */
type Settled = Extract<MergeOutcome, 'already_completed' | 'already_failed'>;

/**
 * Merges one upload, by its status:
 * - MERGING → check the chunk rows → compose them server-side into `finalKey(id)` → size and
 *   sha256 of the result → `markCompleted` → delete the chunk objects (leftover attempts under
 *   the chunk prefix included) and the chunk rows;
 * - COMPLETED → only that cleanup (a previous run may have died between completing and cleaning);
 * - FAILED → nothing; unknown or UPLOADING → {@link MergeRejected} (DLQ).
 *
 * Every step can be repeated: the final key is deterministic (composing again writes the same
 * bytes), `markCompleted`/`markFailed` only move an upload that is still MERGING, and deletes of
 * missing objects or rows are no-ops. So a crash anywhere is repaired by the redelivery, and a
 * second run racing the first (a rebalance, the retry consumer) ends in the same state.
 */
export class MergeUpload {
  private readonly sql: Sql;

  constructor(private readonly options: MergeUploadOptions) {
    this.sql = sqlOf(options.dataSource.manager);
  }

  async handle(request: MergeRequest): Promise<void> {
    // Keys are built from lower-case ids; PostgreSQL matches a uuid whatever its case.
    const uploadId = request.uploadId.toLowerCase();
    const { metrics } = this.options;
    const stopTimer = metrics.duration.startTimer();
    let run: MergeRun | undefined;
    let outcome: MergeOutcome = 'transient';
    try {
      outcome = await withDeadline(this.options.timeoutMs, `merging upload ${uploadId}`, (signal) => {
        run = new MergeRun(this.options, this.sql, signal);
        return run.run(uploadId);
      });
    } catch (error) {
      // A cleanup failing after the completion keeps `completed`: the retry only cleans up.
      outcome = run?.completed
        ? 'completed'
        : error instanceof MergeRejected
          ? (error.code.toLowerCase() as Lowercase<PermanentCode>)
          : 'transient';
      throw error;
    } finally {
      metrics.merges.inc({ outcome });
      stopTimer({ outcome });
    }
  }
}

/** One handling of one request; abandoned (each next call refused) once its deadline passed. */
class MergeRun {
  /** This run moved the upload to COMPLETED. */
  completed = false;

  constructor(
    private readonly options: MergeUploadOptions,
    private readonly sql: Sql,
    private readonly signal: AbortSignal,
  ) {}

  async run(uploadId: string): Promise<MergeOutcome> {
    const upload = await this.load(uploadId);
    switch (upload?.status) {
      case undefined:
        throw new MergeRejected('UNKNOWN_UPLOAD', `no upload ${uploadId} in this database`);
      case 'UPLOADING':
        throw new MergeRejected(
          'UPLOAD_NOT_COMPLETED',
          `upload ${uploadId} is still UPLOADING: its merge was never started`,
        );
      case 'FAILED':
      case 'COMPLETED':
        return this.settled(upload);
      case 'MERGING':
        return this.merge(upload);
    }
  }

  private async merge(upload: Upload): Promise<MergeOutcome> {
    const { objects, logger } = this.options;
    const id = upload.id;
    const chunks = await this.db('loading the chunk rows', (sql) => this.options.uploads.chunks(sql, id));
    const problem = chunkProblem(upload, chunks);
    if (problem) return this.fail(upload, 'CHUNKS_INVALID', problem);

    const key = finalKey(id);
    this.checkDeadline('composing the chunks');
    try {
      await traced('compose', { 'fleet.upload.id': id, 'fleet.upload.chunks': chunks.length }, () =>
        objects.compose(
          key,
          chunks.map((c) => c.objectKey),
          this.options.composeConcurrency,
        ),
      );
    } catch (error) {
      if (!isNoSuchObject(error)) {
        throw unavailable('OBJECT_STORE_UNAVAILABLE', 'composing the chunks', error);
      }
      return this.afterMissingSource(upload, chunks, error);
    }

    const info = await this.objects('reading the final object’s size', () => objects.stat(key));
    if (!info) {
      throw new MergeUnavailable('FINAL_OBJECT_MISSING', `${key} vanished right after it was composed`);
    }
    if (info.size !== upload.size) {
      return this.fail(
        upload,
        'SIZE_MISMATCH',
        `the composed object has ${info.size} bytes, the upload announced ${upload.size}`,
      );
    }
    const sha256 = await traced(
      'verify sha256',
      { 'fleet.upload.id': id, 'fleet.upload.size': upload.size },
      () => this.objects('hashing the final object', () => objects.sha256Of(key)),
    );
    if (upload.expectedSha256 !== null && sha256 !== upload.expectedSha256) {
      return this.fail(
        upload,
        'CHECKSUM_MISMATCH',
        `the final object's sha256 is ${sha256}, the client announced ${upload.expectedSha256}`,
      );
    }

    const completed = await this.db('marking the upload COMPLETED', (sql) =>
      this.options.uploads.markCompleted(sql, id, { finalKey: key, sha256 }),
    );
    if (!completed) return this.settled(await this.load(id));
    this.completed = true;
    this.options.metrics.bytes.inc(upload.size);
    logger.info(
      { uploadId: id, finalKey: key, size: upload.size, sha256, chunks: chunks.length },
      'upload merged and COMPLETED',
    );
    await this.cleanUp(id, chunks);
    return 'completed';
  }

  /**
   * A compose source was not found. Either a run that raced this one completed the upload and
   * deleted the chunks (then there is nothing left to do), or the bucket is gone (retriable), or a
   * recorded chunk object really is missing: the upload can never be assembled.
   */
  private async afterMissingSource(
    upload: Upload,
    chunks: readonly StoredChunk[],
    error: unknown,
  ): Promise<MergeOutcome> {
    const now = await this.load(upload.id);
    if (now?.status !== 'MERGING') return this.settled(now);
    await this.objects('checking the bucket', () => this.options.objects.ping());
    const missing: number[] = [];
    for (let i = 0; i < chunks.length; i += STAT_CONCURRENCY) {
      const batch = chunks.slice(i, i + STAT_CONCURRENCY);
      const stats = await this.objects('checking the chunk objects', () =>
        Promise.all(batch.map((c) => this.options.objects.stat(c.objectKey))),
      );
      stats.forEach((stat, n) => stat === undefined && missing.push(batch[n]!.index));
    }
    if (missing.length === 0) {
      throw new MergeUnavailable(
        'OBJECT_STORE_UNAVAILABLE',
        `compose answered "not found" but every chunk object is there: ${messageOf(error)}`,
        error,
      );
    }
    return this.fail(upload, 'CHUNK_MISSING', `the object of chunk(s) ${missing.join(', ')} is gone`);
  }

  /**
   * The upload can never be merged: the final object is deleted (unverified bytes must not be
   * served), the upload marked FAILED with `code: reason`, its chunks deleted (FAILED is final,
   * nobody would ever read them), and the request dead-lettered. The status is read again first:
   * a racing run may have completed the upload meanwhile.
   */
  private async fail(upload: Upload, code: PermanentCode, reason: string): Promise<Settled> {
    const id = upload.id;
    const now = await this.load(id);
    if (now?.status !== 'MERGING') return this.settled(now);
    // Before the status: a crash in between leaves the upload MERGING, and the redelivery decides again.
    await this.objects('deleting the unverified final object', () =>
      this.options.objects.remove([finalKey(id)]),
    );
    const marked = await this.db('marking the upload FAILED', (sql) =>
      this.options.uploads.markFailed(sql, id, `${code}: ${reason}`, ['MERGING']),
    );
    if (!marked) return this.settled(await this.load(id));
    this.options.logger.warn({ uploadId: id, code, reason }, 'upload cannot be merged; FAILED, to the DLQ');
    try {
      await this.cleanUp(id);
    } catch (error) {
      // The request goes to the DLQ regardless; a replay finds FAILED and does nothing.
      this.options.logger.warn(
        { uploadId: id, err: error },
        'deleting the chunks of a FAILED upload failed; they stay in the bucket',
      );
    }
    throw new MergeRejected(code, `upload ${id}: ${reason}`);
  }

  /** A request for an upload that is not MERGING (any more): clean up after COMPLETED, else nothing. */
  private async settled(upload: Upload | undefined): Promise<Settled> {
    if (upload?.status === 'COMPLETED') {
      await this.cleanUp(upload.id);
      this.options.logger.info({ uploadId: upload.id }, 'upload already COMPLETED; nothing to merge');
      return 'already_completed';
    }
    if (upload?.status === 'FAILED') {
      this.options.logger.info(
        { uploadId: upload.id, reason: upload.failureReason },
        'upload is FAILED; nothing to merge',
      );
      return 'already_failed';
    }
    throw new MergeUnavailable(
      'MERGE_STATE_CHANGED',
      upload
        ? `upload ${upload.id} went back to ${upload.status}`
        : 'the upload disappeared during its merge',
    );
  }

  /**
   * Deletes the chunk objects — those the rows name and any other attempt under the chunk prefix
   * (a racing or conflicting chunk PUT, or one whose row never committed) — then the chunk rows.
   * Objects first: a crash in between leaves rows naming missing objects, which a repeat deletes.
   */
  private async cleanUp(uploadId: string, known?: readonly StoredChunk[]): Promise<void> {
    const rows =
      known ?? (await this.db('loading the chunk rows', (sql) => this.options.uploads.chunks(sql, uploadId)));
    const listed = await this.objects('listing the chunk objects', () =>
      this.options.objects.list(chunkPrefix(uploadId)),
    );
    const named = new Set(rows.map((c) => c.objectKey));
    const keys = [...new Set([...named, ...listed])];
    if (keys.length > 0) {
      await this.objects('deleting the chunk objects', () => this.options.objects.remove(keys));
    }
    const deletedRows = await this.db('deleting the chunk rows', (sql) =>
      this.options.uploads.deleteChunkRows(sql, uploadId),
    );
    const leftovers = listed.filter((key) => !named.has(key)).length;
    if (keys.length > 0 || deletedRows > 0) {
      this.options.logger.info(
        { uploadId, objectKeys: keys.length, leftoverAttempts: leftovers, rows: deletedRows },
        'chunks deleted',
      );
    }
  }

  private load(uploadId: string): Promise<Upload | undefined> {
    return this.db('reading the upload', (sql) => this.options.uploads.get(sql, uploadId));
  }

  private db<T>(what: string, work: (sql: Sql) => Promise<T>): Promise<T> {
    this.checkDeadline(what);
    return io('DATABASE_UNAVAILABLE', what, () => work(this.sql));
  }

  private objects<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.checkDeadline(what);
    return io('OBJECT_STORE_UNAVAILABLE', what, work);
  }

  /** A run past its deadline was already answered (retry); it must not go on in the background. */
  private checkDeadline(what: string): void {
    if (this.signal.aborted) {
      throw new MergeUnavailable('MERGE_TIMEOUT', `abandoned before ${what}: past the merge deadline`);
    }
  }
}

/**
 * A child span of the consumer's `<topic> process` span for the long steps; MinIO's HTTP calls
 * (instrumented) nest under it.
 */
async function traced<T>(
  name: string,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
