import { type MigrationInterface, type QueryRunner } from '@fleet/db';
import { chatApplyStatusSql } from './chat-apply-status.sql';

/**
 * `chat_apply_status(…)`: applying one status update in one round trip instead of six (BEGIN, lock
 * the message, read its deliveries, update the delivery, update the message, COMMIT). The status
 * consumer applies ~3 updates per message, and on the machines this fleet runs on every round trip
 * costs both sides measurable CPU. The rules are those of `overall-status.ts` (kept as the
 * reference and tested there): a channel's status moves only forward in the order PENDING, SENT,
 * DELIVERED, READ, FAILED and never out of FAILED; the message's status is FAILED when every
 * channel failed, else the least advanced of the others. PL/pgSQL runs each statement with a
 * fresh snapshot, so after the message row lock is granted every read sees the latest committed
 * deliveries, exactly like the statements it replaces.
 */
export class ApplyStatusFunction1764500000000 implements MigrationInterface {
  name = 'ApplyStatusFunction1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(chatApplyStatusSql(1));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP FUNCTION chat_apply_status(uuid, uuid, text, text, text, text, timestamptz)',
    );
  }
}
