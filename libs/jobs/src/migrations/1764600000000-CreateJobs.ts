import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * The statuses this migration allows. Frozen here rather than read from `JOB_STATUSES`: a migration
 * must mean the same thing forever, so a new status in the contracts needs a new migration (a unit
 * test fails until it has one).
 */
export const JOB_STATUSES_AT_CREATION = [
  'PENDING',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;

/**
 * `jobs`: one row per job of any kind (seeds 000, 001, 003). The row is the truth about a job; its
 * request message (through the outbox) only says "look at job X". Unqualified names land in the
 * data source's schema.
 */
export class CreateJobs1764600000000 implements MigrationInterface {
  name = 'CreateJobs1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statuses = JOB_STATUSES_AT_CREATION.map((s) => `'${s}'`).join(', ');
    await queryRunner.query(`
      CREATE TABLE jobs (
        id               uuid        PRIMARY KEY,
        kind             text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
        owner_id         text        NOT NULL CHECK (owner_id <> ''),
        status           text        NOT NULL DEFAULT 'PENDING' CHECK (status IN (${statuses})),
        -- Higher first (claimNext); Kafka-dispatched jobs are claimed by id and ignore it.
        priority         integer     NOT NULL DEFAULT 0,
        attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts     integer     NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
        progress         integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
        stage            text,
        input            jsonb       NOT NULL,
        result           jsonb,
        error            text,
        lease_owner      text,
        lease_expires_at timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now(),
        started_at       timestamptz,
        finished_at      timestamptz,
        updated_at       timestamptz NOT NULL DEFAULT now(),
        -- Sequence number of the job's last progress event: bumped in the same statement as the
        -- transition the event reports, so event order is the order of the row's history.
        last_event_seq   bigint      NOT NULL DEFAULT 0 CHECK (last_event_seq >= 0),
        -- A lease exactly while PROCESSING: nobody can hold a job that is not running.
        CONSTRAINT jobs_lease_iff_processing CHECK (
          (status = 'PROCESSING') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
        CONSTRAINT jobs_finished_iff_final CHECK (
          (status IN ('COMPLETED', 'FAILED', 'CANCELLED')) = (finished_at IS NOT NULL))
      )`);
    // The reaper: running jobs by lease expiry. Few rows (one per busy worker), however large the history.
    await queryRunner.query(
      `CREATE INDEX jobs_processing_lease ON jobs (lease_expires_at) WHERE status = 'PROCESSING'`,
    );
    // claimNext: the best waiting job of some kinds.
    await queryRunner.query(
      `CREATE INDEX jobs_pending_priority ON jobs (kind, priority DESC, created_at) WHERE status = 'PENDING'`,
    );
    // Stats (counts per kind and status, index-only) and retention (newest finished per kind and status).
    await queryRunner.query(
      `CREATE INDEX jobs_kind_status_finished ON jobs (kind, status, finished_at DESC)`,
    );
    // An owner's jobs, newest first (the api's listings and ownership checks).
    await queryRunner.query(`CREATE INDEX jobs_owner_created ON jobs (owner_id, created_at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE jobs');
  }
}
