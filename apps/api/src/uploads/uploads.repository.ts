import { type Sql } from '@fleet/db';
import { type Upload, type UploadStore } from '@fleet/uploads';
import { parseId } from '../chat/chat.schemas';
import { notFound } from '../http/api.errors';

/** A path's upload id, parsed: malformed → 400 `INVALID_ID`. */
export const parseUploadId = (value: unknown): string => parseId(value, 'upload id');

/**
 * The caller's upload. Another user's upload answers 404 like an unknown one: its existence is
 * not the caller's business (a 403 would confirm that the id is taken).
 */
export async function ownUpload(store: UploadStore, sql: Sql, id: string, userId: string): Promise<Upload> {
  const upload = await store.get(sql, id);
  if (!upload || upload.ownerId !== userId) throw notFound(`upload ${id} not found`);
  return upload;
}
