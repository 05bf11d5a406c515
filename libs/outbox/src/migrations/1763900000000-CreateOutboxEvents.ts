import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `outbox_events`, its indexes, and a statement-level trigger that wakes pollers at commit time.
 * Unqualified names land in the data source's schema (first on its `search_path`).
 */
export class CreateOutboxEvents1763900000000 implements MigrationInterface {
  name = 'CreateOutboxEvents1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox_events (
        id              uuid        PRIMARY KEY,
        seq             bigserial   NOT NULL,
        aggregate_type  text        NOT NULL,
        aggregate_key   text        NOT NULL,
        event_type      text        NOT NULL,
        topic           text        NOT NULL,
        payload         jsonb       NOT NULL,
        headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        published_at    timestamptz,
        attempts        integer     NOT NULL DEFAULT 0,
        last_error      text,
        next_attempt_at timestamptz,
        parked_at       timestamptz,
        CONSTRAINT outbox_events_key_not_empty CHECK (aggregate_key <> '')
      )`);
    // What the poller scans, oldest first: only rows still to publish, so it stays small.
    await queryRunner.query(`
      CREATE INDEX outbox_events_pending ON outbox_events (seq)
        WHERE published_at IS NULL AND parked_at IS NULL`);
    // Rows of one key in order, for claiming a key's rows once its lock is held.
    await queryRunner.query(`
      CREATE INDEX outbox_events_pending_by_key ON outbox_events (aggregate_key, seq)
        WHERE published_at IS NULL AND parked_at IS NULL`);
    // Rows waiting out a backoff: few, and they hold back the later rows of their key.
    await queryRunner.query(`
      CREATE INDEX outbox_events_backoff ON outbox_events (aggregate_key, seq)
        WHERE published_at IS NULL AND parked_at IS NULL AND next_attempt_at IS NOT NULL`);
    await queryRunner.query(`
      CREATE INDEX outbox_events_parked ON outbox_events (parked_at) WHERE parked_at IS NOT NULL`);
    await queryRunner.query(`
      CREATE INDEX outbox_events_published ON outbox_events (published_at) WHERE published_at IS NOT NULL`);
    // NOTIFY is delivered when the inserting transaction commits, which is exactly when the rows
    // become visible; identical notifications of one transaction are folded into one.
    await queryRunner.query(`
      CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_events', TG_TABLE_SCHEMA);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE outbox_events');
    await queryRunner.query('DROP FUNCTION outbox_events_notify()');
  }
}
