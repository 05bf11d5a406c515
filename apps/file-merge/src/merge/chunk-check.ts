import { expectedChunkBytes, MIN_CHUNK_BYTES, type StoredChunk, type Upload } from '@fleet/uploads';

/** How many indices a reason lists before it says "…": the reason goes into a DLQ header and a column. */
const LISTED = 10;

const list = (indices: readonly number[]) =>
  indices.length > LISTED
    ? `${indices.slice(0, LISTED).join(', ')}… (${indices.length})`
    : indices.join(', ');

/**
 * What is wrong with an upload's chunk rows for a compose, or undefined when they are exactly
 * `0..chunkCount-1`, each of its planned size (every part but the last is `chunkSize`, at least
 * S3's 5 MiB, the last the rest). `chunks` must be in index order, as `UploadStore.chunks` returns
 * them. Checked before anything is written, so a bad upload never produces a final object.
 */
export function chunkProblem(
  upload: Pick<Upload, 'size' | 'chunkSize' | 'chunkCount'>,
  chunks: readonly Pick<StoredChunk, 'index' | 'size'>[],
): string | undefined {
  const { size, chunkSize, chunkCount } = upload;
  const lastBytes = size - chunkSize * (chunkCount - 1);
  if (lastBytes <= 0 || lastBytes > chunkSize) {
    return `the plan does not add up: ${chunkCount} chunks of ${chunkSize} bytes for ${size} bytes`;
  }
  if (chunkCount > 1 && chunkSize < MIN_CHUNK_BYTES) {
    return `chunks of ${chunkSize} bytes cannot be composed (every part but the last needs ${MIN_CHUNK_BYTES})`;
  }
  const present = new Set(chunks.map((c) => c.index));
  const missing = Array.from({ length: chunkCount }, (_, i) => i).filter((i) => !present.has(i));
  const unexpected = chunks.map((c) => c.index).filter((i) => i >= chunkCount);
  if (missing.length > 0 || unexpected.length > 0) {
    return [
      missing.length > 0 ? `chunk(s) ${list(missing)} missing` : undefined,
      unexpected.length > 0 ? `chunk(s) ${list(unexpected)} beyond chunkCount ${chunkCount}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
  }
  const wrong = chunks.filter((c) => c.size !== expectedChunkBytes(upload, c.index));
  if (wrong.length > 0) {
    const [first] = wrong;
    return `chunk(s) ${list(wrong.map((c) => c.index))} of the wrong size (chunk ${first!.index}: ${first!.size} bytes, expected ${expectedChunkBytes(upload, first!.index)})`;
  }
  return undefined;
}
