import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * The purge's index on `published_at` becomes a BRIN index. The btree took one insert per
 * published row, on the poller's hottest statement (about a tenth of a drain's time in
 * `npm run bench:outbox`); the purge only needs to find old page ranges, and rows are published
 * roughly in the order they land on pages, which is what BRIN summarizes.
 */
export class OutboxPublishedBrin1764000000000 implements MigrationInterface {
  name = 'OutboxPublishedBrin1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX outbox_events_published');
    // autosummarize: new page ranges are summarized as they fill, not only at the next VACUUM.
    await queryRunner.query(`
      CREATE INDEX outbox_events_published ON outbox_events USING brin (published_at)
        WITH (autosummarize = on)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX outbox_events_published');
    await queryRunner.query(`
      CREATE INDEX outbox_events_published ON outbox_events (published_at) WHERE published_at IS NOT NULL`);
  }
}
