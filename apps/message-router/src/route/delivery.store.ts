import { type DeliveryChannel, type MessageStatusUpdate, type TopicContract } from '@fleet/contracts';
import { type DataSource, sqlOf } from '@fleet/db';
import { enqueue } from '@fleet/outbox';

/** One delivery: a message on one channel (the table's primary key). */
export interface DeliveryKey {
  messageId: string;
  channel: DeliveryChannel;
  conversationId: string;
}

/** What a claim found. */
export type ClaimResult =
  /** This replica owns the delivery until its lease ends and may call the channel. */
  | {
      kind: 'claimed';
      /** Channel calls started for this delivery, this one included. */
      attempts: number;
      /**
       * The previous owner died between claiming and recording an outcome: the channel may or may
       * not have the message. Sending again is the choice that loses nothing (see the README).
       */
      resumedUnknown: boolean;
    }
  /** Already SENT or FAILED: nothing to do (a replay or a redelivery). */
  | { kind: 'finished'; state: 'SENT' | 'FAILED' }
  /** Another replica holds a live lease: it is calling the channel right now. */
  | { kind: 'busy'; leaseLeftMs: number };

/** A final outcome to record, with the status event that reports it. */
export type FinalOutcome = { state: 'SENT'; channelMessageId: string } | { state: 'FAILED'; reason: string };

interface StoredRow {
  state: 'SENDING' | 'RETRYING' | 'SENT' | 'FAILED';
  lease_left_ms: string | number;
  attempts: number;
}

/**
 * The `router_deliveries` state machine, the arbiter of "sent once" across replicas:
 *
 * ```
 *   (none) ──claim──▶ SENDING ──channel accepted──▶ SENT
 *                       │  ▲ └─refused / last attempt failed─▶ FAILED
 *     retriable failure ▼  │ claim (next attempt)
 *                     RETRYING
 *   (none) ──over the limit / no recipient──▶ FAILED
 * ```
 *
 * A SENDING row carries the owner's lease; a claim takes over a SENDING row only after its lease
 * ran out (its owner died mid-call). Every move to SENT or FAILED commits in one transaction with
 * the status event in the outbox, and happens once: the move is conditional on the row not being
 * final yet, and only the transaction that made it enqueues the status.
 */
export class DeliveryStore {
  constructor(
    private readonly dataSource: DataSource,
    /** Unique per process start: a restarted replica never mistakes an old lease for its own. */
    readonly owner: string,
    private readonly leaseMs: number,
    private readonly statusTopic: TopicContract<MessageStatusUpdate>,
  ) {}

  async claim(key: DeliveryKey): Promise<ClaimResult> {
    return this.dataSource.transaction(async (tx) => {
      const sql = sqlOf(tx);
      const inserted = await sql.rows<{ attempts: number }>(
        `INSERT INTO router_deliveries
           (message_id, channel, conversation_id, state, attempts, lease_owner, lease_expires_at)
         VALUES ($1, $2, $3, 'SENDING', 1, $4, now() + make_interval(secs => $5::double precision / 1000))
         ON CONFLICT (message_id, channel) DO NOTHING
         RETURNING attempts`,
        [key.messageId, key.channel, key.conversationId, this.owner, this.leaseMs],
      );
      if (inserted[0]) return { kind: 'claimed', attempts: inserted[0].attempts, resumedUnknown: false };

      // The row exists (a concurrent claimer's insert waited for our conflict check to resolve).
      const [row] = await sql.rows<StoredRow>(
        `SELECT state, attempts,
                GREATEST(0, CEIL(EXTRACT(EPOCH FROM (lease_expires_at - now())) * 1000)) AS lease_left_ms
           FROM router_deliveries WHERE message_id = $1 AND channel = $2 FOR UPDATE`,
        [key.messageId, key.channel],
      );
      if (!row) throw new Error(`delivery ${key.messageId}/${key.channel} vanished during its claim`);
      if (row.state === 'SENT' || row.state === 'FAILED') return { kind: 'finished', state: row.state };
      const leaseLeftMs = Number(row.lease_left_ms ?? 0);
      if (row.state === 'SENDING' && leaseLeftMs > 0) return { kind: 'busy', leaseLeftMs };

      const [claimed] = await sql.rows<{ attempts: number }>(
        `UPDATE router_deliveries
            SET state = 'SENDING', attempts = attempts + 1, lease_owner = $3,
                lease_expires_at = now() + make_interval(secs => $4::double precision / 1000),
                updated_at = now()
          WHERE message_id = $1 AND channel = $2
          RETURNING attempts`,
        [key.messageId, key.channel, this.owner, this.leaseMs],
      );
      return { kind: 'claimed', attempts: claimed!.attempts, resumedUnknown: row.state === 'SENDING' };
    });
  }

  /**
   * Records the final outcome and enqueues its status in one transaction. A SENT outcome wins over
   * any unfinished row (the channel has the message, whoever owns the lease now); a FAILED one only
   * over this replica's own claim or a row nobody owns, so it never overrides a live sender.
   *
   * @returns false when the delivery was already final: nothing written, no status enqueued.
   */
  async finish(key: DeliveryKey, outcome: FinalOutcome, status: MessageStatusUpdate): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const [row] = await sqlOf(tx).rows<{ attempts: number }>(
        `INSERT INTO router_deliveries AS d
           (message_id, channel, conversation_id, state, channel_message_id, last_error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, 0)
         ON CONFLICT (message_id, channel) DO UPDATE
            SET state = EXCLUDED.state, channel_message_id = EXCLUDED.channel_message_id,
                last_error = COALESCE(EXCLUDED.last_error, d.last_error),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
          WHERE d.state = 'RETRYING'
             OR (d.state = 'SENDING' AND ($4 = 'SENT' OR d.lease_owner = $7 OR d.lease_expires_at <= now()))
         RETURNING d.attempts`,
        [
          key.messageId,
          key.channel,
          key.conversationId,
          outcome.state,
          outcome.state === 'SENT' ? outcome.channelMessageId : null,
          outcome.state === 'FAILED' ? outcome.reason : null,
          this.owner,
        ],
      );
      if (!row) return false;
      await enqueue(tx, this.statusTopic, {
        aggregateType: 'conversation',
        aggregateKey: key.conversationId,
        eventType: `message.status.${outcome.state.toLowerCase()}`,
        payload: status,
      });
      return true;
    });
  }

  /** A retriable failure: the lease is given up, the next attempt claims the row again. */
  async release(key: DeliveryKey, lastError: string): Promise<void> {
    await sqlOf(this.dataSource.manager).rows(
      `UPDATE router_deliveries
          SET state = 'RETRYING', last_error = $3, lease_owner = NULL, lease_expires_at = NULL,
              updated_at = now()
        WHERE message_id = $1 AND channel = $2 AND state = 'SENDING' AND lease_owner = $4`,
      [key.messageId, key.channel, lastError, this.owner],
    );
  }

  /**
   * Deletes finished rows older than the dedup window, `limit` at a time. Unfinished rows stay:
   * they are the only record of a delivery whose outcome is not known yet.
   * @returns rows deleted
   */
  async purgeFinished(olderThanSeconds: number, limit = 1_000): Promise<number> {
    const rows = await sqlOf(this.dataSource.manager).rows<{ message_id: string }>(
      `DELETE FROM router_deliveries
        WHERE (message_id, channel) IN (
          SELECT message_id, channel FROM router_deliveries
           WHERE state IN ('SENT', 'FAILED') AND updated_at < now() - make_interval(secs => $1)
           LIMIT $2)
        RETURNING message_id`,
      [olderThanSeconds, limit],
    );
    return rows.length;
  }
}
