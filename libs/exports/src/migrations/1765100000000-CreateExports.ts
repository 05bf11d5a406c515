import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * Export bundles (seed 002). The export itself is an `export_bundle` row of `jobs` (status,
 * progress, attempts, result); beside it:
 * - `export_requests`: the caller's Idempotency-Key and the request's hash (the same key with
 *   another body is refused), deleted with its job;
 * - `export_signing_keys`: the public keys exporters sign manifests with, published by each
 *   exporter at boot and served at GET /v1/exports/keys (old keys stay: bundles outlive rotations);
 * - a project (a completed map job) may have a campaign (`campaigns.project_id`), whose content the
 *   bundles carry, and uploaded files (`uploads.project_id`), its assets.
 */
export class CreateExports1765100000000 implements MigrationInterface {
  name = 'CreateExports1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`
      CREATE TABLE export_requests (
        job_id          uuid        PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        owner_id        text        NOT NULL,
        idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
        request_sha256  text        NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
        project_id      uuid        NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (owner_id, idempotency_key)
      )`);
    await q(`CREATE INDEX export_requests_project ON export_requests (project_id)`);
    await q(`
      CREATE TABLE export_signing_keys (
        key_id      text        PRIMARY KEY CHECK (length(key_id) BETWEEN 1 AND 100),
        algorithm   text        NOT NULL CHECK (algorithm IN ('Ed25519', 'ES256')),
        jwk         jsonb       NOT NULL CHECK (jsonb_typeof(jwk) = 'object'),
        spki_pem    text        NOT NULL,
        first_seen  timestamptz NOT NULL DEFAULT now(),
        last_seen   timestamptz NOT NULL DEFAULT now()
      )`);
    await q(`ALTER TABLE campaigns ADD COLUMN project_id uuid REFERENCES jobs (id) ON DELETE SET NULL`);
    await q(`CREATE INDEX campaigns_project ON campaigns (project_id) WHERE project_id IS NOT NULL`);
    await q(`ALTER TABLE uploads ADD COLUMN project_id uuid REFERENCES jobs (id) ON DELETE SET NULL`);
    await q(`CREATE INDEX uploads_project ON uploads (project_id) WHERE project_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q('DROP INDEX uploads_project');
    await q('ALTER TABLE uploads DROP COLUMN project_id');
    await q('DROP INDEX campaigns_project');
    await q('ALTER TABLE campaigns DROP COLUMN project_id');
    await q('DROP TABLE export_signing_keys');
    await q('DROP TABLE export_requests');
  }
}
