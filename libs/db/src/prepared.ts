import { type PoolClient } from 'pg';
import { type EntityManager } from 'typeorm';

/**
 * Runs a hot, parameterised statement as a named prepared statement on the manager's connection,
 * so PostgreSQL plans it once per connection instead of on every call, and returns its rows
 * (also for `UPDATE … RETURNING`, where TypeORM's `query` returns `[rows, count]`).
 *
 * `manager` must be bound to a query runner (a transaction's manager); a plain data-source
 * manager falls back to an ordinary query. `name` must identify `text` for the process' lifetime.
 */
export async function queryPrepared<T>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const runner = manager.queryRunner;
  if (!runner || runner.isReleased) {
    const result: unknown = await manager.query(text, values);
    return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
  }
  const client = (await runner.connect()) as PoolClient;
  const result = await client.query({ name, text, values });
  return result.rows as T[];
}
