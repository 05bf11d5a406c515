import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { envBoolean, envInt } from '@fleet/config';
import { z } from 'zod';

/** Env of every app that talks to the object store (MinIO, or any S3-compatible store). */
export const objectStoreEnv = z.object({
  MINIO_ENDPOINT: z.string().min(1),
  MINIO_PORT: envInt({ min: 1, max: 65_535 }).default(9000),
  MINIO_USE_SSL: envBoolean().default(false),
  MINIO_ACCESS_KEY: z.string().min(1),
  MINIO_SECRET_KEY: z.string().min(1),
  MINIO_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name')
    .default('fleet-files'),
  MINIO_REGION: z.string().min(1).default('us-east-1'),
});
export type ObjectStoreConfig = z.output<typeof objectStoreEnv>;

/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export type ObjectStoreErrorCode = 'PUT_FAILED' | 'SIZE_MISMATCH' | 'NOT_FOUND';

/** S3's answers for "no such object" (`HEAD` has no body, so `stat`-based calls say `NotFound`). */
export function isNoSuchObject(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NotFound' || code === 'NoSuchKey';
}

export class ObjectStoreError extends Error {
  constructor(
    readonly code: ObjectStoreErrorCode,
    message: string,
    /** The store's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

export interface StreamedObject {
  etag: string;
  /** Bytes written. */
  size: number;
  /** sha256 of the bytes, hex. */
  sha256: string;
}

export interface ObjectInfo {
  size: number;
  etag: string;
}

/**
 * The object store of the fleet: one bucket, MinIO's client for everything but the streamed
 * upload, which goes over a presigned PUT so the bytes flow from the source stream to the store
 * with bounded memory (the client library buffers a whole part before sending it).
 */
export class ObjectStore {
  readonly client: Client;
  readonly bucket: string;

  constructor(private readonly config: ObjectStoreConfig) {
    this.client = new Client({
      endPoint: config.MINIO_ENDPOINT,
      port: config.MINIO_PORT,
      useSSL: config.MINIO_USE_SSL,
      accessKey: config.MINIO_ACCESS_KEY,
      secretKey: config.MINIO_SECRET_KEY,
      // Known region: no bucket-location lookup before presigning.
      region: config.MINIO_REGION,
    });
    this.bucket = config.MINIO_BUCKET;
  }

  /** Creates the bucket if it is missing (idempotent; safe with several replicas starting). */
  async ensureBucket(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.config.MINIO_REGION);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
    }
  }

  /** Readiness: the bucket is reachable. */
  async ping(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      throw new ObjectStoreError('NOT_FOUND', `bucket ${this.bucket} does not exist`);
    }
  }

  /**
   * Streams exactly `size` bytes from `source` into `key`, hashing them on the way (sha256). Memory
   * stays bounded by the streams' buffers whatever the size. Fails (and writes nothing) when the
   * source ends early or carries more, or when the store refuses.
   */
  async putStream(key: string, source: Readable, size: number): Promise<StreamedObject> {
    const url = new URL(await this.client.presignedPutObject(this.bucket, key, 15 * 60));
    const hash = createHash('sha256');
    let seen = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > size) {
          done(new ObjectStoreError('SIZE_MISMATCH', `more than the announced ${size} bytes`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        done(
          seen === size
            ? null
            : new ObjectStoreError('SIZE_MISMATCH', `${seen} bytes of the announced ${size}`),
        );
      },
    });
    const send = this.config.MINIO_USE_SSL ? httpsRequest : httpRequest;
    const req = send(url, { method: 'PUT', headers: { 'content-length': String(size) } });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    // A failed pipeline destroys the request, so the store sees a short body and stores nothing.
    const sent = pipeline(source, meter, req);
    const [response] = await Promise.all([answered, sent]);
    const body = await readAll(response);
    if (response.statusCode !== 200) {
      throw new ObjectStoreError(
        'PUT_FAILED',
        `the object store refused ${key}: ${response.statusCode} ${errorCodeOf(body)}`,
        response.statusCode,
      );
    }
    return {
      etag: String(response.headers.etag ?? '').replace(/"/g, ''),
      size: seen,
      sha256: hash.digest('hex'),
    };
  }

  /**
   * Streams a source of unknown length into `key` as an S3 multipart upload: parts of `partSize`
   * bytes (≥ 5 MiB), one uploading while the next fills, so memory stays near two parts whatever the
   * size. The object appears only when the upload completes; on any failure — the source's, the
   * store's, or `signal` aborting — the multipart upload is aborted (no parts left behind) and the
   * error rethrown. An empty source makes an empty object.
   */
  async putMultipart(
    key: string,
    source: AsyncIterable<Buffer | Uint8Array>,
    options: { partSize: number; signal?: AbortSignal; contentType?: string },
  ): Promise<StreamedObject & { parts: number }> {
    const { partSize, signal } = options;
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
      throw new RangeError(`partSize must be an integer of at least ${MIN_PART_SIZE} bytes`);
    }
    signal?.throwIfAborted();
    const headers = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
    const hash = createHash('sha256');
    const etags: { part: number; etag: string }[] = [];
    let size = 0;
    let inFlight: Promise<void> = Promise.resolve();
    let nextPart = 1;
    const send = (part: number, payload: Buffer) => {
      const previous = inFlight;
      inFlight = (async () => {
        await previous;
        signal?.throwIfAborted();
        const { etag } = await this.client.uploadPart(
          { bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} },
          payload,
        );
        etags.push({ part, etag });
      })();
      // Seen by the awaits below; never an unhandled rejection while the next part fills.
      inFlight.catch(() => undefined);
      return inFlight;
    };
    // Two part-sized buffers, reused: one fills while the other uploads. The source's chunks are
    // copied in, never concatenated, so memory stays at two parts whatever the object's size.
    let filling: Buffer = Buffer.allocUnsafeSlow(partSize);
    let uploading: Buffer | undefined;
    let filled = 0;
    try {
      for await (const chunk of source) {
        signal?.throwIfAborted();
        const buffer = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
        hash.update(buffer);
        size += buffer.length;
        for (let offset = 0; offset < buffer.length;) {
          const copied = buffer.copy(
            filling,
            filled,
            offset,
            Math.min(buffer.length, offset + partSize - filled),
          );
          offset += copied;
          filled += copied;
          if (filled < partSize) continue;
          // At most one part uploading while this one waits: backpressure on the source.
          await inFlight;
          void send(nextPart++, filling);
          [filling, uploading] = [uploading ?? Buffer.allocUnsafeSlow(partSize), filling];
          filled = 0;
        }
      }
      await inFlight;
      if (filled > 0 || nextPart === 1) await send(nextPart++, filling.subarray(0, filled));
      signal?.throwIfAborted();
      etags.sort((a, b) => a.part - b.part);
      const done = await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
      return { etag: done.etag, size, sha256: hash.digest('hex'), parts: etags.length };
    } catch (error) {
      await inFlight.catch(() => undefined);
      await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Multipart uploads begun under `prefix` and neither completed nor aborted. MinIO answers
   * ListMultipartUploads only for an exact object name or the whole bucket (a folder prefix lists
   * nothing), so this lists the bucket's and filters: incomplete uploads are few by design — every
   * writer here aborts its own on failure.
   */
  async incompleteUploads(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const found: { key: string; uploadId: string }[] = [];
    for await (const item of this.client.listIncompleteUploads(this.bucket, '', true)) {
      if (item.key?.startsWith(prefix) && item.uploadId)
        found.push({ key: item.key, uploadId: item.uploadId });
    }
    return found;
  }

  /**
   * Aborts every incomplete multipart upload under `prefix` (a crashed writer's parts); returns how
   * many. Call it only where no writer is still at work, e.g. before a job's next attempt.
   */
  async abortIncompleteUploads(prefix: string): Promise<number> {
    const uploads = await this.incompleteUploads(prefix);
    for (const { key, uploadId } of uploads) {
      await this.client.abortMultipartUpload(this.bucket, key, uploadId);
    }
    return uploads.length;
  }

  /** `putObject` of the client library (it buffers parts); for small objects and benchmarks. */
  async put(key: string, data: Buffer | Readable, size?: number): Promise<void> {
    await this.client.putObject(this.bucket, key, data, size);
  }

  /**
   * Server-side compose (S3 UploadPartCopy): `destination` becomes the concatenation of `sources`
   * without their bytes passing through this process. Every source but the last must be ≥ 5 MiB.
   * Writing the same destination again replaces it with the same content.
   */
  async compose(destination: string, sources: readonly string[], maxConcurrency = 10): Promise<void> {
    await this.client.composeObject(
      new CopyDestinationOptions({ Bucket: this.bucket, Object: destination }),
      sources.map((key) => new CopySourceOptions({ Bucket: this.bucket, Object: key })),
      { maxConcurrency },
    );
  }

  /** Size and etag, or undefined when there is no such object. */
  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await this.client.statObject(this.bucket, key);
      return { size: stat.size, etag: stat.etag };
    } catch (error) {
      if ((error as { code?: string }).code === 'NotFound') return undefined;
      throw error;
    }
  }

  /** sha256 of an object, streamed (hex). */
  async sha256Of(key: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(await this.client.getObject(this.bucket, key), hash);
    return hash.digest('hex');
  }

  async get(key: string): Promise<Readable> {
    return this.client.getObject(this.bucket, key);
  }

  /** Deletes objects (missing ones are not an error); at most 1,000 per request, batched here. */
  async remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1_000) {
      const batch = keys.slice(i, i + 1_000);
      const results = await this.client.removeObjects(this.bucket, [...batch]);
      const failed = results.filter((r) => r?.Error);
      if (failed.length > 0)
        throw new Error(`could not delete ${failed.length} objects: ${JSON.stringify(failed[0])}`);
    }
  }

  /** Keys under a prefix. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
      if (item.name) keys.push(item.name);
    }
    return keys;
  }

  /**
   * A presigned GET valid for `expirySeconds`; the response carries
   * `Content-Disposition: attachment` with the given filename (RFC 6266, UTF-8 form included).
   */
  async presignedDownload(
    key: string,
    expirySeconds: number,
    download: { filename: string; contentType?: string },
  ): Promise<string> {
    return this.client.presignedGetObject(this.bucket, key, expirySeconds, {
      'response-content-disposition': contentDisposition(download.filename),
      ...(download.contentType ? { 'response-content-type': download.contentType } : {}),
    });
  }
}

/**
 * `attachment` with an ASCII fallback filename (quotes, backslashes, control and non-ASCII
 * characters replaced) and the exact name in `filename*` (RFC 5987).
 */
export function contentDisposition(filename: string): string {
  const base = filename.split(/[/\\]/).pop() || 'download';
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

async function readAll(stream: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function errorCodeOf(xml: string): string {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1] ?? xml.slice(0, 200);
}

export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  return new ObjectStore(config);
}
