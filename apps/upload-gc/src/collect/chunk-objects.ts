import { type ObjectStore } from '@fleet/object-store';
import { chunkPrefix, type AbandonedUpload, type StoredChunk } from '@fleet/uploads';
import { UploadGcError } from './gc.errors';

/** What deleting one upload's chunk objects takes, worked out from its rows and a listing of its prefix. */
export interface DeletionPlan {
  /** Every key to delete, once each: the rows' keys and everything else under the upload's prefix. */
  keys: string[];
  /** Recorded sizes of the rows' objects that the listing showed. */
  knownBytes: number;
  /**
   * Keys whose size the store must tell: listed objects without a row (an attempt that lost a race,
   * conflicted, or died before its row was written) and rows' keys the listing did not show (gone
   * already, e.g. deleted by a run whose commit failed; the stat finds out).
   */
  toStat: string[];
}

export function planDeletion(chunks: readonly StoredChunk[], listed: readonly string[]): DeletionPlan {
  const recorded = new Map(chunks.map((chunk) => [chunk.objectKey, chunk.size]));
  const present = new Set(listed);
  let knownBytes = 0;
  const toStat: string[] = [];
  for (const [key, size] of recorded) {
    if (present.has(key)) knownBytes += size;
    else toStat.push(key);
  }
  for (const key of present) if (!recorded.has(key)) toStat.push(key);
  return { keys: [...new Set([...recorded.keys(), ...present])], knownBytes, toStat };
}

/**
 * A call to the object store, its failure marked as the store's (the batch rolls back). The
 * message says what was attempted; the store's own words stay in `cause` (logged with it).
 */
export async function objectStoreCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new UploadGcError('OBJECT_STORE_FAILED', `${what} failed`, { cause: error });
  }
}

/**
 * The keys of an abandoned upload's chunk objects and their bytes. Deletes nothing: the caller
 * deletes a whole batch's keys in as few requests as the store allows.
 */
export async function chunkObjectsOf(
  store: ObjectStore,
  upload: AbandonedUpload,
): Promise<{ keys: string[]; bytes: number }> {
  const listed = await objectStoreCall(`listing the chunks of ${upload.id}`, () =>
    store.list(chunkPrefix(upload.id)),
  );
  const plan = planDeletion(upload.chunks, listed);
  let bytes = plan.knownBytes;
  for (const key of plan.toStat) {
    const info = await objectStoreCall(`stat of ${key}`, () => store.stat(key));
    bytes += info?.size ?? 0;
  }
  return { keys: plan.keys, bytes };
}
