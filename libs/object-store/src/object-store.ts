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

export type ObjectStoreErrorCode = 'PUT_FAILED' | 'SIZE_MISMATCH' | 'NOT_FOUND';

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
