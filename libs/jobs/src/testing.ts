import { randomUUID } from 'node:crypto';
import { type Sql } from '@fleet/db';
import { type RedisClient } from '@fleet/redis';
import { JobEvents, type JobEventsOptions } from './job-events';

/**
 * Makes a running job's lease look expired (as if its worker died `agoMs` ago) without waiting for
 * it: the reaper then takes it. Test helper: a real worker never backdates a lease.
 * @returns whether the job was PROCESSING.
 */
export async function expireLease(sql: Sql, jobId: string, agoMs = 1_000): Promise<boolean> {
  const rows = await sql.rows(
    `UPDATE jobs SET lease_expires_at = now() - ($2::float8 * interval '1 millisecond')
      WHERE id = $1 AND status = 'PROCESSING' RETURNING id`,
    [jobId, agoMs],
  );
  return rows.length > 0;
}

/**
 * {@link JobEvents} under a fresh key prefix (`test:<uuid>:jobs:`), so tests never see each other's
 * streams or channels; `cleanup()` deletes the keys it made.
 */
export function createTestJobEvents(
  client: RedisClient,
  options: Omit<JobEventsOptions, 'keyPrefix'> = {},
): { events: JobEvents; keyPrefix: string; cleanup(): Promise<void> } {
  const keyPrefix = `test:${randomUUID()}:jobs:`;
  const events = new JobEvents(client, { ...options, keyPrefix });
  return {
    events,
    keyPrefix,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
  };
}
