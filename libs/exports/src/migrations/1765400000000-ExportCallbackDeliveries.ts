import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `export_callback_deliveries`: one row per callback event a receiver took (2xx), written right
 * after its delivery. A callback request seen again — a replayed topic range, a retry that
 * overtook its own success, a rebalance — is then not POSTed a second time. Only the window
 * between a receiver's 2xx and this row (an exporter killed in between) can repeat a delivery, and
 * that one carries the same `webhook-id`, which Standard Webhooks receivers dedup on.
 */
export class ExportCallbackDeliveries1765400000000 implements MigrationInterface {
  name = 'ExportCallbackDeliveries1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE export_callback_deliveries (
        event_id     uuid        PRIMARY KEY,
        export_id    uuid        NOT NULL,
        status       integer     NOT NULL CHECK (status BETWEEN 200 AND 299),
        delivered_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX export_callback_deliveries_export ON export_callback_deliveries (export_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE export_callback_deliveries`);
  }
}
