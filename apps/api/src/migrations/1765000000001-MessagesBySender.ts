import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * A sender's messages, newest first: the input of the pool-filler's `summarize_session` job (a
 * character's last N chat messages), which would otherwise scan every message.
 */
export class MessagesBySender1765000000001 implements MigrationInterface {
  name = 'MessagesBySender1765000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX messages_sender_created ON messages (sender_id, created_at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX messages_sender_created');
  }
}
