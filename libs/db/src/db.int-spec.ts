import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Column,
  connectDataSource,
  DbError,
  Entity,
  inTransaction,
  migrationStatus,
  onConnection,
  pingDatabase,
  PrimaryGeneratedColumn,
  runMigrations,
  type DbOptions,
  type EntityManager,
  type MigrationInterface,
  type QueryRunner,
} from './index';
import { captureLogger, createTestSchema, type TestSchema } from './testing';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

@Entity('widgets')
class Widget {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column('text')
  name!: string;
}

class CreateWidgets1700000000001 implements MigrationInterface {
  // Unqualified on purpose: the connection's search_path must put it in the test schema.
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

class BrokenGadgets1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE gadgets (id int)');
    await queryRunner.query('SELECT * FROM no_such_table');
  }
  async down(): Promise<void> {}
}

class SlowParts1700000000003 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query('CREATE TABLE parts (id int)');
  }
  async down(): Promise<void> {}
}

const logger = captureLogger();
const connect = (options: Omit<DbOptions, 'url' | 'logger'>) =>
  connectDataSource({ url: DATABASE_URL, logger, ...options });
const schemas: TestSchema[] = [];
async function testSchema(options: Omit<Parameters<typeof createTestSchema>[0], 'url'> = {}) {
  const created = await createTestSchema({ url: DATABASE_URL, ...options });
  schemas.push(created);
  return created;
}
after(() => Promise.all(schemas.map((s) => s.drop())));

async function tablesIn(schema: TestSchema): Promise<string[]> {
  const rows: { table_name: string }[] = await schema.dataSource.query(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema.schema],
  );
  return rows.map((row) => row.table_name);
}

describe('test schemas', () => {
  let withWidgets: TestSchema;
  let empty: TestSchema;
  before(async () => {
    withWidgets = await testSchema({ entities: [Widget], migrations: [CreateWidgets1700000000001] });
    empty = await testSchema();
  });

  test('each gets a fresh test_ schema; a table migrated into one is absent from the other', async () => {
    assert.match(withWidgets.schema, /^test_[0-9a-f]{12}$/);
    assert.notEqual(withWidgets.schema, empty.schema);
    assert.deepEqual(await tablesIn(withWidgets), ['migrations', 'widgets']);
    assert.deepEqual(await tablesIn(empty), ['migrations']);
    assert.deepEqual(await empty.dataSource.query(`SELECT to_regclass('widgets') AS t`), [{ t: null }]);
  });

  test('entities read and write the tables of their own schema', async () => {
    const saved = await withWidgets.dataSource.transaction((manager: EntityManager) =>
      manager.getRepository(Widget).save({ name: 'sprocket' }),
    );
    const rows = await withWidgets.dataSource.query(`SELECT id, name FROM "${withWidgets.schema}".widgets`);
    assert.deepEqual(rows, [{ id: saved.id, name: 'sprocket' }]);
  });

  test('applied migrations are recorded, and a second run applies nothing', async () => {
    const recorded = await withWidgets.dataSource.query('SELECT name FROM migrations');
    assert.deepEqual(recorded, [{ name: 'CreateWidgets1700000000001' }]);
    const second = captureLogger();
    assert.deepEqual(await runMigrations(withWidgets.dataSource, second), []);
    assert.deepEqual(
      second.lines.filter((line) => line.level === 'info'),
      [{ level: 'info', obj: { schema: withWidgets.schema, applied: [] }, msg: 'no pending migrations' }],
    );
    assert.deepEqual(await migrationStatus(withWidgets.dataSource), [
      { name: 'CreateWidgets1700000000001', applied: true },
    ]);
  });

  test('pingDatabase resolves on an open data source', async () => {
    await pingDatabase(empty.dataSource);
  });

  test('drop removes the schema and everything in it, and a second drop is harmless', async () => {
    const doomed = await testSchema({ migrations: [CreateWidgets1700000000001] });
    await doomed.drop();
    await doomed.drop();
    const rows = await empty.dataSource.query(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1',
      [doomed.schema],
    );
    assert.deepEqual(rows, []);
    await assert.rejects(pingDatabase(doomed.dataSource), (error: unknown) => {
      assert.ok(error instanceof DbError);
      assert.equal(error.code, 'DB_UNAVAILABLE');
      return true;
    });
  });
});

describe('onConnection and inTransaction', () => {
  let db: TestSchema;
  const names = async () =>
    ((await db.dataSource.query('SELECT name FROM widgets ORDER BY id')) as { name: string }[]).map(
      (r) => r.name,
    );
  before(async () => {
    db = await testSchema({ entities: [Widget], migrations: [CreateWidgets1700000000001] });
  });

  test('BEGIN and COMMIT folded into statements run as one transaction; the last statement answers', async () => {
    const rows = await onConnection(db.dataSource, async (session) => {
      await session.simple(`BEGIN; INSERT INTO widgets (name) VALUES ('a')`);
      const inside = await session.simple<{ n: number }>(
        `INSERT INTO widgets (name) VALUES ('b'); SELECT count(*)::int AS n FROM widgets`,
      );
      assert.deepEqual(await names(), [], 'not visible to others before COMMIT');
      await session.simple('COMMIT');
      return inside;
    });
    assert.deepEqual(rows, [{ n: 2 }]);
    assert.deepEqual(await names(), ['a', 'b']);
    await db.dataSource.query('DELETE FROM widgets');
  });

  test('when the work throws, whatever transaction it left open is rolled back, and later work is unaffected', async () => {
    await assert.rejects(
      onConnection(db.dataSource, async (session) => {
        await session.simple(`BEGIN; INSERT INTO widgets (name) VALUES ('lost')`);
        throw new Error('boom');
      }),
      /boom/,
    );
    await assert.rejects(
      inTransaction(db.dataSource, async (sql) => {
        await sql.rows(`INSERT INTO widgets (name) VALUES ($1)`, ['lost too']);
        await sql.rows('SELECT * FROM no_such_table');
      }),
      /no_such_table/,
    );
    assert.deepEqual(await names(), []);
    await inTransaction(db.dataSource, (sql) => sql.rows(`INSERT INTO widgets (name) VALUES ($1)`, ['kept']));
    assert.deepEqual(await names(), ['kept']);
    await db.dataSource.query('DELETE FROM widgets');
  });

  test('a statement prepared on a connection runs by EXECUTE there, and preparing it again is free', async () => {
    const text = 'SELECT $1::int + $2::int AS sum';
    const sums = await onConnection(db.dataSource, async (session) => {
      await session.prepare('add_two', text, ['int', 'int']);
      await session.prepare('add_two', text, ['int', 'int']); // a second PREPARE would fail
      return session.simple<{ sum: number }>('EXECUTE add_two(2, 3)');
    });
    assert.deepEqual(sums, [{ sum: 5 }]);
    await assert.rejects(
      onConnection(db.dataSource, (session) => session.prepare('bad name', text, [])),
      (error: unknown) => error instanceof DbError && error.code === 'DB_INVALID_OPTIONS',
    );
  });
});

describe('runMigrations', () => {
  test('when a migration fails, it is rolled back and named, and the ones before it stay applied', async () => {
    const { schema } = await testSchema();
    const dataSource = await connect({
      schema,
      migrations: [CreateWidgets1700000000001, BrokenGadgets1700000000002],
    });
    try {
      await assert.rejects(runMigrations(dataSource, logger), (error: unknown) => {
        assert.ok(error instanceof DbError);
        assert.equal(error.code, 'DB_MIGRATION_FAILED');
        assert.match(
          error.message,
          new RegExp(`^migration BrokenGadgets1700000000002 failed in schema "${schema}": `),
        );
        assert.match(error.message, /no_such_table/);
        assert.ok(error.cause instanceof Error);
        return true;
      });
      assert.deepEqual(await migrationStatus(dataSource), [
        { name: 'CreateWidgets1700000000001', applied: true },
        { name: 'BrokenGadgets1700000000002', applied: false },
      ]);
      assert.deepEqual(await dataSource.query(`SELECT to_regclass('gadgets') AS t`), [{ t: null }]);
    } finally {
      await dataSource.destroy();
    }
  });

  test('when two instances migrate the same schema at once, each migration is applied exactly once', async () => {
    const { schema } = await testSchema();
    const open = () => connect({ schema, migrations: [SlowParts1700000000003] });
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const results = await Promise.all([runMigrations(a, logger), runMigrations(b, logger)]);
      assert.deepEqual(results.flat(), ['SlowParts1700000000003']);
      assert.deepEqual(await a.query('SELECT count(*)::int AS n FROM migrations'), [{ n: 1 }]);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  test('when the data source is closed, it throws DB_MIGRATION_FAILED without naming a migration', async () => {
    const { schema } = await testSchema();
    const dataSource = await connect({ schema, migrations: [CreateWidgets1700000000001] });
    await dataSource.destroy();
    await assert.rejects(runMigrations(dataSource, logger), (error: unknown) => {
      assert.ok(error instanceof DbError);
      assert.equal(error.code, 'DB_MIGRATION_FAILED');
      assert.match(error.message, new RegExp(`^migrations failed in schema "${schema}": `));
      return true;
    });
  });

  test('when the schema does not exist yet, it is created', async () => {
    const { schema, dataSource: admin } = await testSchema();
    const fresh = `${schema}_new`;
    const dataSource = await connect({ schema: fresh, migrations: [CreateWidgets1700000000001] });
    const recorder = captureLogger();
    try {
      assert.deepEqual(await runMigrations(dataSource, recorder), ['CreateWidgets1700000000001']);
      assert.deepEqual(
        recorder.lines.filter((line) => line.level === 'info'),
        [
          {
            level: 'info',
            obj: { schema: fresh, pending: ['CreateWidgets1700000000001'] },
            msg: 'applying migrations',
          },
          {
            level: 'info',
            obj: { schema: fresh, applied: ['CreateWidgets1700000000001'] },
            msg: 'migrations applied',
          },
        ],
      );
      const rows = await dataSource.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [fresh],
      );
      assert.deepEqual(rows, [{ table_name: 'migrations' }, { table_name: 'widgets' }]);
    } finally {
      await dataSource.destroy();
      await admin.query(`DROP SCHEMA "${fresh}" CASCADE`);
    }
  });
});

describe('connectDataSource', () => {
  test('queries slower than slowQueryWarnMs are logged as warnings', async () => {
    const recorder = captureLogger();
    const dataSource = await connectDataSource({ url: DATABASE_URL, logger: recorder, slowQueryWarnMs: 50 });
    try {
      await dataSource.query('SELECT 1');
      await dataSource.query('SELECT pg_sleep(0.1)');
      const warnings = recorder.lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].msg, 'slow query');
      assert.equal((warnings[0].obj as { query: string }).query, 'SELECT pg_sleep(0.1)');
    } finally {
      await dataSource.destroy();
    }
  });

  test('when the server refuses the connection, it throws DB_CONNECTION_FAILED naming the target but not the password', async () => {
    await assert.rejects(
      connectDataSource({ url: 'postgres://fleet:wrong-secret@127.0.0.1:1/fleet', logger }),
      (error: unknown) => {
        assert.ok(error instanceof DbError);
        assert.equal(error.code, 'DB_CONNECTION_FAILED');
        assert.match(error.message, /^cannot connect to fleet@127\.0\.0\.1:1\/fleet: .*ECONNREFUSED/);
        assert.doesNotMatch(error.message, /wrong-secret/);
        return true;
      },
    );
  });

  test('when the database does not exist, the server error is in the message', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = '/no_such_database_for_fleet';
    await assert.rejects(connectDataSource({ url: url.toString(), logger }), (error: unknown) => {
      assert.ok(error instanceof DbError);
      assert.equal(error.code, 'DB_CONNECTION_FAILED');
      assert.match(error.message, /database "no_such_database_for_fleet" does not exist/);
      return true;
    });
  });
});
