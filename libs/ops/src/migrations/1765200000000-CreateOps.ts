import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * The operators' tables:
 *
 * - `ops_dead_letters`: every record of every `.dlq` topic, indexed by the dead-letter indexer
 *   (its Kafka coordinates are the identity: indexing twice changes nothing), with its status —
 *   DEAD (waiting for an operator), REDRIVING / REDRIVEN (sent back to its consumer group),
 *   DISCARDED (with a reason), PARKED (came back past the redrive cap: never redriven again
 *   without an explicit override);
 * - `ops_retries`: every record of every `.retry` topic (a retry scheduled, or a redrive), so an
 *   event's life shows each attempt of each group;
 * - `ops_redrives`: each redrive's progress (any api replica answers for it);
 * - `ops_audit`: one row per operator action (who, when, what, filter, count).
 */
export class CreateOps1765200000000 implements MigrationInterface {
  name = 'CreateOps1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE TABLE ops_dead_letters (
        id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        dlq_topic          text        NOT NULL,
        dlq_partition      integer     NOT NULL,
        dlq_offset         bigint      NOT NULL,
        topic              text        NOT NULL,
        original_partition integer     NOT NULL,
        original_offset    bigint      NOT NULL,
        consumer_group     text        NOT NULL,
        reason             text        NOT NULL,
        error_code         text        NOT NULL,
        error_message      text        NOT NULL,
        attempts           integer     NOT NULL,
        key                text,
        event_id           text,
        event_type         text,
        traceparent        text,
        headers            jsonb       NOT NULL,
        value              bytea,
        first_failure_at   timestamptz,
        failed_at          timestamptz NOT NULL,
        -- Redrives this record had before it came to the DLQ (x-redrive-count).
        redrive_count      integer     NOT NULL DEFAULT 0,
        status             text        NOT NULL DEFAULT 'DEAD'
                           CHECK (status IN ('DEAD', 'REDRIVING', 'REDRIVEN', 'DISCARDED', 'PARKED')),
        status_reason      text,
        status_at          timestamptz NOT NULL DEFAULT now(),
        redrive_id         uuid,
        -- Where the redriven copy went (the group's retry path).
        redrive_topic      text,
        redrive_partition  integer,
        redrive_offset     bigint,
        indexed_at         timestamptz NOT NULL DEFAULT now(),
        UNIQUE (dlq_topic, dlq_partition, dlq_offset)
      )`);
    await q(`CREATE INDEX ops_dead_letters_browse ON ops_dead_letters (topic, status, failed_at DESC)`);
    await q(`CREATE INDEX ops_dead_letters_event ON ops_dead_letters (event_id)`);
    await q(`CREATE INDEX ops_dead_letters_key ON ops_dead_letters (topic, key)`);
    await q(`
      CREATE TABLE ops_retries (
        retry_topic        text        NOT NULL,
        retry_partition    integer     NOT NULL,
        retry_offset       bigint      NOT NULL,
        topic              text        NOT NULL,
        consumer_group     text        NOT NULL,
        attempt            integer     NOT NULL,
        due_at             timestamptz,
        last_error         text,
        event_id           text,
        key                text,
        -- Set on a redrive's record: the redrive it belongs to, and its count.
        redrive_id         uuid,
        redrive_count      integer     NOT NULL DEFAULT 0,
        written_at         timestamptz NOT NULL,
        PRIMARY KEY (retry_topic, retry_partition, retry_offset)
      )`);
    await q(`CREATE INDEX ops_retries_event ON ops_retries (event_id)`);
    await q(`
      CREATE TABLE ops_redrives (
        id          uuid        PRIMARY KEY,
        actor       text        NOT NULL,
        filter      jsonb       NOT NULL,
        status      text        NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED')),
        matched     integer     NOT NULL,
        redriven    integer     NOT NULL DEFAULT 0,
        skipped     integer     NOT NULL DEFAULT 0,
        failed      integer     NOT NULL DEFAULT 0,
        rate_per_s  integer     NOT NULL,
        error       text,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q(`
      CREATE TABLE ops_audit (
        id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        at         timestamptz NOT NULL DEFAULT now(),
        actor      text        NOT NULL,
        action     text        NOT NULL,
        target     text,
        filter     jsonb,
        count      integer     NOT NULL DEFAULT 0,
        dry_run    boolean     NOT NULL DEFAULT false,
        reason     text,
        detail     jsonb
      )`);
    await q(`CREATE INDEX ops_audit_at ON ops_audit (at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ops_audit`);
    await queryRunner.query(`DROP TABLE ops_redrives`);
    await queryRunner.query(`DROP TABLE ops_retries`);
    await queryRunner.query(`DROP TABLE ops_dead_letters`);
  }
}
