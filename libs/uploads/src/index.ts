export { chunkKey, chunkPrefix, finalKey } from './keys';
export {
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNKS,
  MIN_CHUNK_BYTES,
  expectedChunkBytes,
  planChunks,
  type ChunkPlan,
} from './sizing';
export {
  UploadStore,
  type AbandonedUpload,
  type NewUpload,
  type RecordChunkOutcome,
  type StartMergeOutcome,
  type StoredChunk,
  type Upload,
} from './upload-store';
export { CreateUploads1764400000000 } from './migrations/1764400000000-CreateUploads';
import { CreateUploads1764400000000 } from './migrations/1764400000000-CreateUploads';

/** The uploads tables; the api's migrations include them (file-merge and upload-gc use the same database). */
export const UPLOAD_MIGRATIONS = [CreateUploads1764400000000] as const;
