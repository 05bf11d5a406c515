import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `jobs.dedup_key`: at most one waiting or running job per key. Content pools use it so that a pool
 * is never refilled by two jobs at once (seed 001: "never a second one for a pool that already has
 * one pending or running"), however many checks, claims and replicas race to ask. Jobs without a
 * key are not constrained; a finished job frees its key.
 */
export class JobDedupKey1764900000000 implements MigrationInterface {
  name = 'JobDedupKey1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE jobs ADD COLUMN dedup_key text CHECK (dedup_key IS NULL OR dedup_key <> '')`,
    );
    await queryRunner.query(`
      CREATE UNIQUE INDEX jobs_active_dedup_key ON jobs (dedup_key)
        WHERE dedup_key IS NOT NULL AND status IN ('PENDING', 'PROCESSING')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX jobs_active_dedup_key');
    await queryRunner.query('ALTER TABLE jobs DROP COLUMN dedup_key');
  }
}
