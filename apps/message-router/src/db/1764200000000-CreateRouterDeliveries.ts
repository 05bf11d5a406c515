import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/**
 * `router_deliveries`: one row per message and channel, the arbiter of "sent once". The primary
 * key is the dedup constraint; `state` moves SENDING ⇄ RETRYING → SENT | FAILED (see the README).
 */
export class CreateRouterDeliveries1764200000000 implements MigrationInterface {
  name = 'CreateRouterDeliveries1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE router_deliveries (
        message_id         uuid        NOT NULL,
        channel            text        NOT NULL,
        conversation_id    uuid        NOT NULL,
        state              text        NOT NULL,
        channel_message_id text,
        attempts           integer     NOT NULL DEFAULT 0,
        last_error         text,
        lease_owner        text,
        lease_expires_at   timestamptz,
        started_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, channel),
        CONSTRAINT router_deliveries_channel CHECK (channel IN ('whatsapp', 'instagram')),
        CONSTRAINT router_deliveries_state CHECK (state IN ('SENDING', 'RETRYING', 'SENT', 'FAILED')),
        CONSTRAINT router_deliveries_sent_has_id CHECK (state <> 'SENT' OR channel_message_id IS NOT NULL)
      )`);
    // The purge walks finished rows by age; unfinished rows are never purged.
    await queryRunner.query(`
      CREATE INDEX router_deliveries_finished ON router_deliveries (updated_at)
        WHERE state IN ('SENT', 'FAILED')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE router_deliveries');
  }
}
