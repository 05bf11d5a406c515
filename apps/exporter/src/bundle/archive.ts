import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback, pipeline } from 'node:stream';
import { ZipFile } from 'yazl';
import { type ManifestFile, MANIFEST_PATH } from './manifest';

/** A file generated in memory (engine text files: small). Deflated. */
export interface BufferEntry {
  path: string;
  content: Buffer;
}

/**
 * A file streamed from elsewhere (the texture, uploaded assets): opened only when the archive
 * reaches it, hashed on the way, stored uncompressed (textures and uploads are compressed already;
 * deflating them costs CPU for nothing).
 */
export interface StreamEntry {
  path: string;
  size: number;
  open(): Promise<Readable>;
  /** When known (an upload's recorded hash): a mismatch fails the archive, naming the file. */
  expectedSha256?: string;
}

export type ArchiveEntry = BufferEntry | StreamEntry;

/**
 * Every entry's time. A local-time constructor with DOS-only timestamps: the DOS fields are local
 * date and time fields, so this value encodes the same bytes in every time zone (the Info-ZIP UTC
 * field would not). 1980-01-01 is the DOS epoch; 2020 reads better in unzip listings.
 */
const ENTRY_TIME = new Date(2020, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

/** Counts and hashes what passes through. */
class Digest extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  sha256 = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    callback();
  }
}

const isStream = (entry: ArchiveEntry): entry is StreamEntry => 'open' in entry;

export class ArchiveError extends Error {
  constructor(
    readonly code: 'ENTRY_MISMATCH' | 'ENTRY_FAILED' | 'DUPLICATE_PATH',
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/**
 * Writes a deterministic zip: entries in path order, fixed times and modes, then the manifest,
 * made by `finish` from every entry's path, size and SHA-256 (measured while writing). The zip's
 * bytes go to `sink` as they are produced (a multipart upload): memory holds one streamed chunk
 * and the sink's buffer, never an entry or the archive. Fails — and stops reading — when an entry's
 * stream fails or does not match its declared size or hash, or when the sink fails.
 */
export async function writeArchive<T>(options: {
  entries: ArchiveEntry[];
  finish(files: ManifestFile[]): Promise<Buffer>;
  sink(output: AsyncIterable<Buffer>): Promise<T>;
  signal?: AbortSignal;
}): Promise<{ sink: T; files: ManifestFile[] }> {
  const entries = [...options.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.path === entries[i - 1]!.path) {
      throw new ArchiveError('DUPLICATE_PATH', `two archive entries at ${entries[i]!.path}`);
    }
  }
  if (entries.some((e) => e.path === MANIFEST_PATH)) {
    throw new ArchiveError('DUPLICATE_PATH', `${MANIFEST_PATH} is the manifest's path`);
  }

  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const open: Readable[] = [];
  let failure: Error | undefined;
  let rejectFailed: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => undefined);
  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    for (const stream of open) stream.destroy();
    output.destroy(error);
    rejectFailed(error);
  };
  zip.on('error', (error: Error) => fail(error));
  const onAbort = () =>
    fail(options.signal!.reason instanceof Error ? options.signal!.reason : new Error('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const sinking = options.sink(output as AsyncIterable<Buffer>);
  sinking.catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));

  try {
    const measured: Promise<ManifestFile>[] = entries.map((entry) => {
      const common = { mtime: ENTRY_TIME, mode: FILE_MODE, forceDosTimestamp: true };
      if (!isStream(entry)) {
        zip.addBuffer(entry.content, entry.path, { ...common, compress: true });
        return Promise.resolve({
          path: entry.path,
          size: entry.content.length,
          sha256: createHash('sha256').update(entry.content).digest('hex'),
        });
      }
      return new Promise<ManifestFile>((resolve, reject) => {
        zip.addReadStreamLazy(entry.path, { ...common, compress: false, size: entry.size }, (callback) => {
          entry.open().then(
            (source) => {
              const digest = new Digest();
              open.push(source, digest);
              digest.on('end', () => {
                if (entry.expectedSha256 && digest.sha256 !== entry.expectedSha256) {
                  const error = new ArchiveError(
                    'ENTRY_MISMATCH',
                    `${entry.path}: read ${digest.sha256}, expected SHA-256 ${entry.expectedSha256}`,
                  );
                  fail(error);
                  reject(error);
                  return;
                }
                resolve({ path: entry.path, size: digest.size, sha256: digest.sha256 });
              });
              pipeline(source, digest, () => undefined);
              source.on('error', (error) => {
                const wrapped = new ArchiveError('ENTRY_FAILED', `${entry.path}: ${error.message}`);
                fail(wrapped);
                reject(wrapped);
              });
              callback(null, digest);
            },
            // The opener's own error (it knows what a missing source means), unwrapped.
            (error: unknown) => {
              const failed = error instanceof Error ? error : new Error(String(error));
              fail(failed);
              reject(failed);
            },
          );
        });
      });
    });
    const files = await Promise.race([Promise.all(measured), failed]);
    const manifest = await Promise.race([options.finish(files), failed]);
    zip.addBuffer(manifest, MANIFEST_PATH, {
      mtime: ENTRY_TIME,
      mode: FILE_MODE,
      forceDosTimestamp: true,
      compress: true,
    });
    zip.end();
    const sink = await Promise.race([sinking, failed]);
    return { sink, files };
  } catch (error) {
    fail(error instanceof Error ? error : new Error(String(error)));
    await sinking.catch(() => undefined);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
