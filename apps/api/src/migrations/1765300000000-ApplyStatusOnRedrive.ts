import { type MigrationInterface, type QueryRunner } from '@fleet/db';
import { chatApplyStatusSql } from './chat-apply-status.sql';

const V1 = 'chat_apply_status(uuid, uuid, text, text, text, text, timestamptz)';
const V2 = 'chat_apply_status(uuid, uuid, text, text, text, text, timestamptz, uuid)';

/**
 * `chat_apply_status` takes the update's `redriveId`: a SENT from the router for an operator's
 * redrive moves a FAILED channel to SENT (the one way out of FAILED; see `chat-apply-status.sql.ts`).
 * Replaced in one transaction, so no status update ever finds the function missing.
 */
export class ApplyStatusOnRedrive1765300000000 implements MigrationInterface {
  name = 'ApplyStatusOnRedrive1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION ${V1}`);
    await queryRunner.query(chatApplyStatusSql(2));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION ${V2}`);
    await queryRunner.query(chatApplyStatusSql(1));
  }
}
