import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * What the router needs to tell "sent" from "not sent" after a replica died mid-call:
 * - `call_started_at`: when the current owner started its channel call (the confirmation grace
 *   period is counted from it);
 * - `confirmed_channel_message_id`, `confirmed_at`: a channel webhook (WhatsApp echoes our message
 *   id) said the channel took the message while the row was not final yet.
 */
export class AddRouterDeliveryConfirmations1764300000000 implements MigrationInterface {
  name = 'AddRouterDeliveryConfirmations1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE router_deliveries
        ADD COLUMN call_started_at              timestamptz,
        ADD COLUMN confirmed_channel_message_id text,
        ADD COLUMN confirmed_at                 timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE router_deliveries
        DROP COLUMN call_started_at,
        DROP COLUMN confirmed_channel_message_id,
        DROP COLUMN confirmed_at`);
  }
}
