import { type UploadStatus } from '@fleet/contracts';
import { type Sql } from '@fleet/db';

export interface Upload {
  id: string;
  ownerId: string;
  /** The client's filename: metadata only, never part of an object key. */
  filename: string;
  contentType: string;
  size: number;
  /** The sha256 the client announced (hex), if any; the merge verifies it. */
  expectedSha256: string | null;
  chunkSize: number;
  chunkCount: number;
  status: UploadStatus;
  finalKey: string | null;
  /** The final object's sha256, once merged. */
  sha256: string | null;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
  completedAt: Date | null;
}

export interface NewUpload {
  id: string;
  ownerId: string;
  filename: string;
  contentType: string;
  size: number;
  expectedSha256: string | null;
  chunkSize: number;
  chunkCount: number;
  /** The project (a map job) the file belongs to, for export bundles; the job's removal unsets it. */
  projectId?: string | null;
}

export interface StoredChunk {
  index: number;
  size: number;
  sha256: string;
  objectKey: string;
}

/** What recording a chunk did. */
export type RecordChunkOutcome =
  | { outcome: 'stored' }
  /** The same index with the same content is already there: nothing changed. */
  | { outcome: 'duplicate'; chunk: StoredChunk }
  /** The same index with other content is already there: nothing changed. */
  | { outcome: 'conflict'; chunk: StoredChunk }
  | { outcome: 'not_uploading'; status: UploadStatus }
  | { outcome: 'unknown_upload' };

export type StartMergeOutcome =
  | { outcome: 'merging' }
  /** Already MERGING or COMPLETED: completing again changes nothing. */
  | { outcome: 'already'; status: UploadStatus }
  | { outcome: 'missing_chunks'; missing: number[] }
  | { outcome: 'failed'; reason: string | null }
  | { outcome: 'unknown_upload' };

/** An upload upload-gc cleaned: its chunks' objects are for the caller to delete. */
export interface AbandonedUpload {
  id: string;
  chunks: StoredChunk[];
  bytes: number;
}

interface UploadRow {
  id: string;
  owner_id: string;
  filename: string;
  content_type: string;
  size: string;
  expected_sha256: string | null;
  chunk_size: string;
  chunk_count: number;
  status: UploadStatus;
  final_key: string | null;
  sha256: string | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  completed_at: Date | null;
}

interface ChunkRow {
  idx: number;
  size: string;
  sha256: string;
  object_key: string;
}

const toUpload = (r: UploadRow): Upload => ({
  id: r.id,
  ownerId: r.owner_id,
  filename: r.filename,
  contentType: r.content_type,
  size: Number(r.size),
  expectedSha256: r.expected_sha256,
  chunkSize: Number(r.chunk_size),
  chunkCount: r.chunk_count,
  status: r.status,
  finalKey: r.final_key,
  sha256: r.sha256,
  failureReason: r.failure_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastActivityAt: r.last_activity_at,
  completedAt: r.completed_at,
});

const toChunk = (r: ChunkRow): StoredChunk => ({
  index: r.idx,
  size: Number(r.size),
  sha256: r.sha256,
  objectKey: r.object_key,
});

const UPLOAD_COLUMNS = `id, owner_id, filename, content_type, size, expected_sha256, chunk_size, chunk_count,
  status, final_key, sha256, failure_reason, created_at, updated_at, last_activity_at, completed_at`;

/**
 * The SQL of chunked uploads, shared by the api, file-merge and upload-gc. Methods that say so must
 * run inside a transaction the caller owns (`inTransaction`): they lock the upload's row so chunk
 * writes, the merge request and garbage collection of one upload never interleave.
 */
export class UploadStore {
  async create(sql: Sql, upload: NewUpload): Promise<Upload> {
    // project_id is the exports' column (their migration adds it): named only when set, so a
    // database with the upload tables alone works as before.
    const project = upload.projectId ? ', project_id' : '';
    const [row] = await sql.rows<UploadRow>(
      `INSERT INTO uploads (id, owner_id, filename, content_type, size, expected_sha256, chunk_size, chunk_count${project})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8${project ? ', $9' : ''}) RETURNING ${UPLOAD_COLUMNS}`,
      [
        upload.id,
        upload.ownerId,
        upload.filename,
        upload.contentType,
        upload.size,
        upload.expectedSha256,
        upload.chunkSize,
        upload.chunkCount,
        ...(upload.projectId ? [upload.projectId] : []),
      ],
    );
    return toUpload(row!);
  }

  async get(sql: Sql, id: string): Promise<Upload | undefined> {
    const [row] = await sql.rows<UploadRow>(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = $1`, [id]);
    return row ? toUpload(row) : undefined;
  }

  /** Stored chunks in index order. */
  async chunks(sql: Sql, uploadId: string): Promise<StoredChunk[]> {
    const rows = await sql.rows<ChunkRow>(
      `SELECT idx, size, sha256, object_key FROM upload_chunks WHERE upload_id = $1 ORDER BY idx`,
      [uploadId],
    );
    return rows.map(toChunk);
  }

  /** Indices not stored yet, ascending. */
  async missingChunks(sql: Sql, uploadId: string): Promise<number[]> {
    const rows = await sql.rows<{ idx: number }>(
      `SELECT i AS idx FROM uploads u, generate_series(0, u.chunk_count - 1) AS i
        WHERE u.id = $1
          AND NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload_id = u.id AND c.idx = i)
        ORDER BY i`,
      [uploadId],
    );
    return rows.map((r) => r.idx);
  }

  /**
   * Records a stored chunk object as chunk `index`, unless the index is taken (a duplicate when the
   * checksums match, a conflict when not) or the upload no longer takes chunks. In a transaction.
   */
  async recordChunk(sql: Sql, uploadId: string, chunk: StoredChunk): Promise<RecordChunkOutcome> {
    const [upload] = await sql.rows<{ status: UploadStatus }>(
      `SELECT status FROM uploads WHERE id = $1 FOR NO KEY UPDATE`,
      [uploadId],
    );
    if (!upload) return { outcome: 'unknown_upload' };
    if (upload.status !== 'UPLOADING') return { outcome: 'not_uploading', status: upload.status };
    const inserted = await sql.rows<{ idx: number }>(
      `INSERT INTO upload_chunks (upload_id, idx, size, sha256, object_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (upload_id, idx) DO NOTHING RETURNING idx`,
      [uploadId, chunk.index, chunk.size, chunk.sha256, chunk.objectKey],
    );
    if (inserted.length === 0) {
      // Taken by a committed writer (they lock the upload's row first, as we did).
      const [row] = await sql.rows<ChunkRow>(
        `SELECT idx, size, sha256, object_key FROM upload_chunks WHERE upload_id = $1 AND idx = $2`,
        [uploadId, chunk.index],
      );
      const existing = toChunk(row!);
      return existing.sha256 === chunk.sha256 && existing.size === chunk.size
        ? { outcome: 'duplicate', chunk: existing }
        : { outcome: 'conflict', chunk: existing };
    }
    await sql.rows(`UPDATE uploads SET last_activity_at = now(), updated_at = now() WHERE id = $1`, [
      uploadId,
    ]);
    return { outcome: 'stored' };
  }

  /**
   * UPLOADING with every chunk stored → MERGING. In a transaction: the caller enqueues the merge
   * request in the same one when the outcome is `merging`.
   */
  async startMerge(sql: Sql, uploadId: string): Promise<StartMergeOutcome> {
    const [upload] = await sql.rows<{ status: UploadStatus; failure_reason: string | null }>(
      `SELECT status, failure_reason FROM uploads WHERE id = $1 FOR NO KEY UPDATE`,
      [uploadId],
    );
    if (!upload) return { outcome: 'unknown_upload' };
    if (upload.status === 'FAILED') return { outcome: 'failed', reason: upload.failure_reason };
    if (upload.status !== 'UPLOADING') return { outcome: 'already', status: upload.status };
    const missing = await this.missingChunks(sql, uploadId);
    if (missing.length > 0) return { outcome: 'missing_chunks', missing };
    await sql.rows(`UPDATE uploads SET status = 'MERGING', updated_at = now() WHERE id = $1`, [uploadId]);
    return { outcome: 'merging' };
  }

  /** MERGING → COMPLETED with the final object; false when the upload was not MERGING. */
  async markCompleted(
    sql: Sql,
    uploadId: string,
    result: { finalKey: string; sha256: string },
  ): Promise<boolean> {
    const rows = await sql.rows(
      `UPDATE uploads SET status = 'COMPLETED', final_key = $2, sha256 = $3, completed_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'MERGING' RETURNING id`,
      [uploadId, result.finalKey, result.sha256],
    );
    return rows.length > 0;
  }

  /** → FAILED with a reason, from one of `from`; false when the upload was in none of them. */
  async markFailed(
    sql: Sql,
    uploadId: string,
    reason: string,
    from: readonly UploadStatus[] = ['UPLOADING', 'MERGING'],
  ): Promise<boolean> {
    const rows = await sql.rows(
      `UPDATE uploads SET status = 'FAILED', failure_reason = $2, updated_at = now()
        WHERE id = $1 AND status = ANY($3::text[]) RETURNING id`,
      [uploadId, reason.slice(0, 2000), [...from]],
    );
    return rows.length > 0;
  }

  /** Deletes the chunk rows of an upload (after their objects are gone); returns how many. */
  async deleteChunkRows(sql: Sql, uploadId: string): Promise<number> {
    const rows = await sql.rows(`DELETE FROM upload_chunks WHERE upload_id = $1 RETURNING idx`, [uploadId]);
    return rows.length;
  }

  /**
   * Garbage collection, in a transaction: up to `limit` uploads still UPLOADING, created more than
   * `olderThanMs` ago and without chunk activity for as long, are locked (uploads another run holds
   * are skipped, so overlapping runs split the work), their chunk rows deleted and their status set
   * to FAILED. Returns them with their chunks, whose objects the caller deletes before committing.
   */
  async failAbandoned(
    sql: Sql,
    olderThanMs: number,
    limit: number,
    reason: string,
  ): Promise<AbandonedUpload[]> {
    const uploads = await sql.rows<{ id: string }>(
      `SELECT id FROM uploads
        WHERE status = 'UPLOADING'
          AND created_at < now() - $1 * interval '1 millisecond'
          AND last_activity_at < now() - $1 * interval '1 millisecond'
        ORDER BY created_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [olderThanMs, limit],
    );
    if (uploads.length === 0) return [];
    const ids = uploads.map((u) => u.id);
    const chunkRows = await sql.rows<ChunkRow & { upload_id: string }>(
      `DELETE FROM upload_chunks WHERE upload_id = ANY($1::uuid[]) RETURNING upload_id, idx, size, sha256, object_key`,
      [ids],
    );
    await sql.rows(
      `UPDATE uploads SET status = 'FAILED', failure_reason = $2, updated_at = now() WHERE id = ANY($1::uuid[])`,
      [ids, reason],
    );
    return ids.map((id) => {
      const chunks = chunkRows
        .filter((r) => r.upload_id === id)
        .map(toChunk)
        .sort((a, b) => a.index - b.index);
      return { id, chunks, bytes: chunks.reduce((sum, c) => sum + c.size, 0) };
    });
  }
}
