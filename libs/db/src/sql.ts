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
 * One pooled connection driven by hand, for hot loops that fold transaction control into their
 * statements (`BEGIN; EXECUTE claim(…)` … `UPDATE …; COMMIT`): on a machine where every round
 * trip is a pair of system calls, two round trips fewer per batch is measurable.
 */
export interface SqlSession extends Sql {
  /**
   * Runs `text` with the simple query protocol: several statements in one round trip and no
   * parameters, so inline only values you produced and checked yourself. Returns the last
   * statement's rows.
   */
  simple<T>(text: string): Promise<T[]>;
  /**
   * Makes `text` the server-side prepared statement `name` on this connection, once per
   * connection; `EXECUTE name(…)` in {@link SqlSession.simple} then skips planning.
   */
  prepare(name: string, text: string, parameterTypes: readonly string[]): Promise<void>;
}

/** Names prepared with `PREPARE` on each connection (a new connection starts empty). */
const preparedOn = new WeakMap<PoolClient, Set<string>>();

function sessionOnClient(client: PoolClient): SqlSession {
  return {
    ...sqlOnClient(client),
    async simple<T>(text: string): Promise<T[]> {
      const result: unknown = await client.query(text);
      // pg answers one result per statement when the text holds several.
      const last = (Array.isArray(result) ? result.at(-1) : result) as { rows?: T[] } | undefined;
      return last?.rows ?? [];
    },
    async prepare(name: string, text: string, parameterTypes: readonly string[]): Promise<void> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new DbError('DB_INVALID_OPTIONS', `bad prepared statement name "${name}"`);
      const names = preparedOn.get(client) ?? new Set<string>();
      preparedOn.set(client, names);
      if (names.has(name)) return;
      const types = parameterTypes.length ? `(${parameterTypes.join(', ')})` : '';
      await client.query(`PREPARE ${name}${types} AS ${text}`);
      names.add(name);
    },
  };
}

/**
 * Runs `work` on a connection taken straight from the data source's `pg` pool, without TypeORM's
 * per-statement machinery. `work` drives its own transaction; if it throws, whatever it left open
 * is rolled back. A connection whose state is unknown after a failure is destroyed rather than
 * returned to the pool.
 */
export async function onConnection<T>(
  dataSource: DataSource,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
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
    return await work(sessionOnClient(client));
  } catch (error) {
    // Outside a transaction ROLLBACK only warns, so it is safe whatever `work` got to.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * Runs `work` in a transaction on a raw pooled connection (see {@link onConnection}): commits
 * when `work` resolves, rolls back when it throws.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (sql: Sql) => Promise<T>): Promise<T> {
  return onConnection(dataSource, async (session) => {
    await session.simple('BEGIN');
    const result = await work(session);
    await session.simple('COMMIT');
    return result;
  });
}
