import { type Pool, type PoolClient } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';
import { DbError, messageOf } from './db.errors';

/** Runs statements on one connection and returns their rows, `UPDATE … RETURNING` included. */
export interface Sql {
  /** `name` makes `text` a prepared statement on the connection: planned once, not per call. */
  rows<T>(text: string, values?: readonly unknown[], name?: string): Promise<T[]>;
}

function sqlOnClient(client: PoolClient): Sql {
  return {
    async rows<T>(text: string, values: readonly unknown[] = [], name?: string): Promise<T[]> {
      const result = await client.query({ text, values: [...values], ...(name ? { name } : {}) });
      return result.rows as T[];
    },
  };
}

/**
 * {@link Sql} over a TypeORM manager: a transaction's manager (statements run on its connection,
 * named ones prepared there) or a data source's (each statement on any pooled connection).
 */
export function sqlOf(manager: EntityManager): Sql {
  return {
    async rows<T>(text: string, values: readonly unknown[] = [], name?: string): Promise<T[]> {
      const runner = manager.queryRunner;
      if (name && runner && !runner.isReleased) {
        return sqlOnClient((await runner.connect()) as PoolClient).rows<T>(text, values, name);
      }
      const result: unknown = await manager.query(text, [...values]);
      // TypeORM answers `[rows, affected]` for UPDATE/DELETE, rows otherwise.
      return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
    },
  };
}

/**
 * Runs `work` in a transaction on a connection taken straight from the data source's `pg` pool,
 * without TypeORM's per-statement machinery: for hot loops (the outbox relay) where that overhead
 * is measurable. Commits when `work` resolves, rolls back when it throws; a connection whose state
 * is unknown after a failure is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (sql: Sql) => Promise<T>): Promise<T> {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new DbError('DB_UNAVAILABLE', 'data source is not initialized');
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new DbError('DB_UNAVAILABLE', `cannot get a connection: ${messageOf(error)}`, { cause: error });
  }
  let broken: Error | undefined;
  // A checked-out client has no listener of the pool's: without one, a server that goes away
  // between two statements would crash the process with an unhandled 'error' event.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(sqlOnClient(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
