import { type Sql } from '@fleet/db';
import { isUuid, type BusinessRowLookup } from '@fleet/ops';

/** Table and id of the row an outbox event of each aggregate is about. */
function target(
  aggregateType: string,
  aggregateKey: string,
  payload: unknown,
): { table: string; column: string; id: string } | undefined {
  const messageId = (payload as { messageId?: unknown } | null)?.messageId;
  switch (aggregateType) {
    // Chat events are keyed by conversation (per-conversation order) but are about one message.
    case 'conversation':
      return isUuid(messageId)
        ? { table: 'messages', column: 'id', id: messageId }
        : { table: 'conversations', column: 'id', id: aggregateKey };
    case 'job':
      return { table: 'jobs', column: 'id', id: aggregateKey };
    case 'upload':
      return { table: 'uploads', column: 'id', id: aggregateKey };
    case 'export':
      return { table: 'export_requests', column: 'job_id', id: aggregateKey };
    default:
      return undefined;
  }
}

/** The business rows of the api's own aggregates, for the event-life view. */
export function businessRowLookup(sql: Sql): BusinessRowLookup {
  return async ({ aggregateType, aggregateKey, payload }) => {
    const where = target(aggregateType, aggregateKey, payload);
    if (!where || !isUuid(where.id)) return null;
    const [found] = await sql.rows<{ row: unknown }>(
      `SELECT to_jsonb(t) AS row FROM ${where.table} t WHERE ${where.column} = $1`,
      [where.id],
    );
    return found ? { type: where.table, id: where.id, row: found.row } : null;
  };
}
