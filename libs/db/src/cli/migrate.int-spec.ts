import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { captureLogger, createTestSchema, type TestSchema } from '../testing';
import { runMigrateCli } from './migrate';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

class CreateNotes1700000000010 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE notes (id int)');
  }
  async down(): Promise<void> {}
}

describe('migrate command against a real Postgres', () => {
  let target: TestSchema;
  before(async () => {
    target = await createTestSchema({ url: DATABASE_URL });
  });
  after(() => target.drop());

  async function run(argv: string[], url = DATABASE_URL) {
    const logger = captureLogger();
    const written: string[] = [];
    const code = await runMigrateCli(argv, {
      db: { url, schema: target.schema, migrations: [CreateNotes1700000000010], logger },
      write: (text) => written.push(text),
    });
    return { code, output: written.join(''), logger };
  }

  test('status lists a new migration as pending, up applies it, then status lists it as applied', async () => {
    assert.deepEqual(await run(['status']).then((r) => [r.code, r.output]), [
      0,
      'pending  CreateNotes1700000000010\n',
    ]);
    const up = await run(['up']);
    assert.equal(up.code, 0);
    assert.ok(up.logger.lines.some((line) => line.msg === 'migrations applied'));
    assert.deepEqual(await run(['status']).then((r) => [r.code, r.output]), [
      0,
      'applied  CreateNotes1700000000010\n',
    ]);
  });

  test('when the database cannot be reached, it logs the error and returns 1', async () => {
    const { code, logger } = await run(['up'], 'postgres://fleet:fleet@127.0.0.1:1/fleet');
    assert.equal(code, 1);
    const [line] = logger.lines.filter((l) => l.level === 'error');
    assert.match(line?.msg ?? '', /^migrate up failed: cannot connect to fleet@127\.0\.0\.1:1\/fleet/);
  });
});
