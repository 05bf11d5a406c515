import { type Sql } from '@fleet/db';
import { ApiError } from '../http/api.errors';

/**
 * A campaign's or an upload's `projectId` must name a map_generation job — the caller's own when
 * `ownerId` is given (another user's answers like a missing one) — else 422 naming the field and
 * nothing is written. Any status: a file can be uploaded while its map is still being generated.
 */
export async function checkProjectRef(
  sql: Sql,
  projectId: string,
  field: string,
  ownerId?: string,
): Promise<void> {
  const [job] = await sql.rows<{ owner_id: string; kind: string }>(
    'SELECT owner_id, kind FROM jobs WHERE id = $1',
    [projectId],
  );
  if (!job || job.kind !== 'map_generation' || (ownerId !== undefined && job.owner_id !== ownerId)) {
    throw new ApiError(
      422,
      'PROJECT_NOT_FOUND',
      `${field}: ${projectId} is not ${ownerId === undefined ? 'a map job' : 'one of your map jobs'} (POST /v1/maps makes one)`,
      { field },
    );
  }
}
