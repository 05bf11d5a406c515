import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `redrive_id`: the operator's redrive that last reopened a FAILED delivery. A redrive reopens a
 * FAILED row once: the same redriven record delivered again (a rebalance, a crash before the
 * commit) finds its own id here and is a duplicate, not another channel call.
 */
export class AddRouterDeliveryRedrive1765300000000 implements MigrationInterface {
  name = 'AddRouterDeliveryRedrive1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE router_deliveries ADD COLUMN redrive_id uuid');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE router_deliveries DROP COLUMN redrive_id');
  }
}
