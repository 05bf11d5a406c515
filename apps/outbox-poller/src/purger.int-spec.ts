import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { createLogger } from '@fleet/observability';
import { OUTBOX_MIGRATIONS, OutboxStore } from '@fleet/outbox';
import { OutboxPurger } from './purger';

const logger = createLogger({ serviceName: 'purger-test', level: 'silent' });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';

describe('outbox purger on a real PostgreSQL', () => {
  let db: TestSchema;
  before(async () => {
    db = await createTestSchema({ url: DATABASE_URL, migrations: [...OUTBOX_MIGRATIONS] });
  });
  after(() => db.drop());

  test('a run deletes every published row past retention, batch after batch, and nothing else', async () => {
    const insert = (count: number, published: string) =>
      db.dataSource.query(
        `INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, published_at)
         SELECT gen_random_uuid(), 'item', 'k' || i, 'item.created', 't', '{}', ${published}
           FROM generate_series(1, $1) AS i`,
        [count],
      );
    await insert(250, `now() - interval '2 hours'`); // past retention
    await insert(7, `now() - interval '10 minutes'`); // published, still kept
    await insert(5, 'NULL'); // pending
    const purger = new OutboxPurger({
      dataSource: db.dataSource,
      store: new OutboxStore(),
      logger,
      retentionMs: 3_600_000,
      intervalMs: 60_000,
      batchSize: 100,
    });
    assert.equal(await purger.runOnce(), 250, 'three statements: 100, 100, 50');
    const [{ left }] = (await db.dataSource.query('SELECT count(*)::int AS left FROM outbox_events')) as [
      { left: number },
    ];
    assert.equal(left, 12);
    assert.equal(await purger.runOnce(), 0);
    await purger.stop();
  });

  test('retention 0 keeps every row', async () => {
    const purger = new OutboxPurger({
      dataSource: db.dataSource,
      store: new OutboxStore(),
      logger,
      retentionMs: 0,
      intervalMs: 60_000,
    });
    await db.dataSource.query(`UPDATE outbox_events SET published_at = now() - interval '30 days'`);
    assert.equal(await purger.runOnce(), 0);
    purger.start();
    await purger.stop();
  });
});
