import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureLogger } from '../testing';
import { MIGRATE_USAGE, runMigrateCli } from './migrate';

describe('runMigrateCli', () => {
  // An address that is never contacted: usage errors are reported before connecting.
  const logger = captureLogger();
  const db = { url: 'postgres://fleet@127.0.0.1:1/fleet', logger };

  test('when the command is missing, unknown or has extra arguments, it prints usage and returns 2', async () => {
    for (const argv of [[], ['down'], ['up', 'now']]) {
      const written: string[] = [];
      assert.equal(await runMigrateCli(argv, { db, write: (text) => written.push(text) }), 2);
      assert.deepEqual(written, [MIGRATE_USAGE], argv.join(' '));
    }
    assert.deepEqual(logger.lines, []);
  });
});
