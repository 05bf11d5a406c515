/**
 * Chunk sizing. S3's compose (MinIO `composeObject`, like multipart upload) needs every part but
 * the last to be at least 5 MiB, and takes at most 10,000 parts. The server picks the chunk size:
 * `preferred` (8 MiB unless configured) or larger for a file that would need more parts.
 */
export const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
export const MAX_CHUNKS = 10_000;
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

export interface ChunkPlan {
  chunkSize: number;
  chunkCount: number;
}

export function planChunks(size: number, preferred = DEFAULT_CHUNK_BYTES): ChunkPlan {
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new RangeError(`size must be a positive integer, got ${size}`);
  const MiB = 1024 * 1024;
  let chunkSize = Math.max(MIN_CHUNK_BYTES, preferred);
  // Whole MiB, large enough that the count stays within S3's part limit.
  if (Math.ceil(size / chunkSize) > MAX_CHUNKS) chunkSize = Math.ceil(size / MAX_CHUNKS / MiB) * MiB;
  return { chunkSize, chunkCount: Math.max(1, Math.ceil(size / chunkSize)) };
}

/** The exact byte length chunk `index` must have. */
export function expectedChunkBytes(plan: ChunkPlan & { size: number }, index: number): number {
  if (index < plan.chunkCount - 1) return plan.chunkSize;
  return plan.size - plan.chunkSize * (plan.chunkCount - 1);
}
