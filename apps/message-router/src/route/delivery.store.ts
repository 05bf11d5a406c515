import { type DeliveryChannel, type MessageStatusUpdate, type TopicContract } from '@fleet/contracts';
import { type DataSource, type Sql, sqlOf } from '@fleet/db';
import { OUTBOX_ROW_COLUMNS, outboxRowValues, prepareOutboxRow } from '@fleet/outbox';

/** One delivery: a message on one channel (the table's primary key). */
export interface DeliveryKey {
  messageId: string;
  channel: DeliveryChannel;
  conversationId: string;
  /**
   * The operator's redrive this delivery attempt belongs to (`x-redrive-id`): it may reopen a
   * FAILED row, once, and its SENT status says so, so the api lets the message out of FAILED.
   */
  redriveId?: string;
}

/** What a claim found. */
export type ClaimResult =
  /** This replica owns the delivery until its lease ends and may call the channel. */
  | {
      kind: 'claimed';
      /** Channel calls started for this delivery, this one included. */
      attempts: number;
      /** True when an operator's redrive reopened a FAILED delivery. */
      reopened?: boolean;
    }
  /**
   * The row was not final but a channel webhook confirmed the message (a call whose outcome was
   * never recorded: a replica died, or the answer was lost). This replica owns the row and records
   * SENT with `channelMessageId`, without calling the channel.
   */
  | {
      kind: 'confirmed';
      channelMessageId: string;
      /** True when the row was taken over from a replica that died mid-call. */
      takenOver: boolean;
    }
  /**
   * The previous owner died between starting its call and recording an outcome, and no
   * confirmation has arrived (yet). This replica owns the row for `waitMs` + the lease; after
   * `waitMs` (the rest of the confirmation grace period, counted from the dead owner's call) it
   * must ask {@link DeliveryStore.resume} whether to send again.
   */
  | { kind: 'takenOver'; waitMs: number }
  /** Already SENT or FAILED: nothing to do (a replay or a redelivery). */
  | { kind: 'finished'; state: 'SENT' | 'FAILED' }
  /** Another replica holds a live lease: it is calling the channel right now. */
  | { kind: 'busy'; leaseLeftMs: number };

/** What {@link DeliveryStore.resume} found after the confirmation grace period. */
export type ResumeResult =
  /** No confirmation: send again (the call is counted and its start stamped). */
  | { kind: 'resend'; attempts: number }
  /** The channel confirmed the dead owner's call: record SENT, do not call. */
  | { kind: 'confirmed'; channelMessageId: string }
  | { kind: 'finished'; state: 'SENT' | 'FAILED' }
  /** The lease was lost meanwhile (the wait outlived it): another replica owns the row now. */
  | { kind: 'busy'; leaseLeftMs: number };

/** A final outcome to record, with the status event that reports it. */
export type FinalOutcome = { state: 'SENT'; channelMessageId: string } | { state: 'FAILED'; reason: string };

interface StoredRow {
  state: 'SENDING' | 'RETRYING' | 'SENT' | 'FAILED';
  lease_owner: string | null;
  lease_left_ms: string | number;
  attempts: number;
  confirmed_channel_message_id: string | null;
  redrive_id?: string | null;
  /** Until the confirmation grace period after the last call's start has passed (claim only). */
  grace_left_ms?: string | number;
}

/** A first claim: the row does not exist yet, this replica creates it as its own SENDING row. */
const CLAIM_NEW_SQL = `
  INSERT INTO router_deliveries
    (message_id, channel, conversation_id, state, attempts, lease_owner, lease_expires_at, call_started_at,
     redrive_id)
  VALUES ($1, $2, $3, 'SENDING', 1, $4, now() + make_interval(secs => $5::double precision / 1000), now(),
          $6::uuid)
  ON CONFLICT (message_id, channel) DO NOTHING
  RETURNING attempts`;

/**
 * The `router_deliveries` state machine, the arbiter of "sent once" across replicas:
 *
 * ```
 *   (none) ──claim──▶ SENDING ──channel accepted──▶ SENT
 *                       │  ▲ └─refused / last attempt failed─▶ FAILED
 *     retriable failure ▼  │ claim (next attempt)
 *                     RETRYING
 *   (none) ──over the limit / no recipient──▶ FAILED
 *   FAILED ──claim by an operator's redrive (once per redrive)──▶ SENDING
 * ```
 *
 * A SENDING row carries the owner's lease; a claim takes over a SENDING row only after its lease
 * ran out (its owner died mid-call), and then waits for the confirmation grace period before
 * sending again ({@link DeliveryStore.resume}). A channel webhook may mark a row that is not final
 * as confirmed ({@link DeliveryStore.confirm}); a claim of a confirmed row records SENT without a
 * call. Every move to SENT or FAILED commits in one transaction with the status event in the
 * outbox, and happens once: the move is conditional on the row not being final yet, and only the
 * transaction that made it enqueues the status.
 */
export class DeliveryStore {
  constructor(
    private readonly dataSource: DataSource,
    /** Unique per process start: a restarted replica never mistakes an old lease for its own. */
    readonly owner: string,
    private readonly leaseMs: number,
    private readonly statusTopic: TopicContract<MessageStatusUpdate>,
  ) {}

  /**
   * @param confirmationGraceMs how long after a dead owner's call started a confirmation may still
   *   arrive (0 for a channel whose webhooks cannot name the message: send again at once)
   */
  async claim(key: DeliveryKey, confirmationGraceMs: number): Promise<ClaimResult> {
    // The common case, a first claim, is one statement on its own (one round trip); only a row
    // that exists already needs the transaction below, which reads and locks it.
    const [first] = await sqlOf(this.dataSource.manager).rows<{ attempts: number }>(CLAIM_NEW_SQL, [
      key.messageId,
      key.channel,
      key.conversationId,
      this.owner,
      this.leaseMs,
      key.redriveId ?? null,
    ]);
    if (first) return { kind: 'claimed', attempts: first.attempts };
    return this.dataSource.transaction(async (tx) => {
      const sql = sqlOf(tx);
      const inserted = await sql.rows<{ attempts: number }>(CLAIM_NEW_SQL, [
        key.messageId,
        key.channel,
        key.conversationId,
        this.owner,
        this.leaseMs,
        key.redriveId ?? null,
      ]);
      if (inserted[0]) return { kind: 'claimed', attempts: inserted[0].attempts };

      // The row exists (a concurrent claimer's insert waited for our conflict check to resolve).
      const [row] = await sql.rows<StoredRow>(
        `SELECT state, attempts, lease_owner, confirmed_channel_message_id, redrive_id,
                GREATEST(0, CEIL(EXTRACT(EPOCH FROM (lease_expires_at - now())) * 1000)) AS lease_left_ms,
                GREATEST(0, CEIL(EXTRACT(EPOCH FROM (
                  COALESCE(call_started_at, updated_at)
                  + make_interval(secs => $3::double precision / 1000) - now())) * 1000)) AS grace_left_ms
           FROM router_deliveries WHERE message_id = $1 AND channel = $2 FOR UPDATE`,
        [key.messageId, key.channel, confirmationGraceMs],
      );
      if (!row) throw new Error(`delivery ${key.messageId}/${key.channel} vanished during its claim`);
      if (row.state === 'FAILED' && key.redriveId !== undefined && row.redrive_id !== key.redriveId) {
        // An operator redrove the record after fixing the cause: one more call, for this redrive
        // (none when a channel webhook proved the channel had the message all along).
        if (row.confirmed_channel_message_id !== null) {
          await this.takeLease(sql, key, this.leaseMs, false);
          return { kind: 'confirmed', channelMessageId: row.confirmed_channel_message_id, takenOver: false };
        }
        const attempts = await this.takeLease(sql, key, this.leaseMs, true);
        return { kind: 'claimed', attempts, reopened: true };
      }
      if (row.state === 'SENT' || row.state === 'FAILED') return { kind: 'finished', state: row.state };
      const leaseLeftMs = Number(row.lease_left_ms ?? 0);
      if (row.state === 'SENDING' && leaseLeftMs > 0) return { kind: 'busy', leaseLeftMs };

      const takenOver = row.state === 'SENDING';
      if (row.confirmed_channel_message_id !== null) {
        await this.takeLease(sql, key, this.leaseMs, false);
        return { kind: 'confirmed', channelMessageId: row.confirmed_channel_message_id, takenOver };
      }
      if (takenOver) {
        const waitMs = Number(row.grace_left_ms ?? 0);
        // The lease covers the wait too, so no third replica takes the row over meanwhile.
        await this.takeLease(sql, key, waitMs + this.leaseMs, false);
        return { kind: 'takenOver', waitMs };
      }
      const attempts = await this.takeLease(sql, key, this.leaseMs, true);
      return { kind: 'claimed', attempts };
    });
  }

  /**
   * After a takeover's wait: re-reads the row (a confirmation may have arrived meanwhile). With none,
   * the row stays this replica's and the new call is counted and stamped in the same transaction.
   */
  async resume(key: DeliveryKey): Promise<ResumeResult> {
    return this.dataSource.transaction(async (tx) => {
      const sql = sqlOf(tx);
      const [row] = await sql.rows<StoredRow>(
        `SELECT state, attempts, lease_owner, confirmed_channel_message_id,
                GREATEST(0, CEIL(EXTRACT(EPOCH FROM (lease_expires_at - now())) * 1000)) AS lease_left_ms
           FROM router_deliveries WHERE message_id = $1 AND channel = $2 FOR UPDATE`,
        [key.messageId, key.channel],
      );
      if (!row) throw new Error(`delivery ${key.messageId}/${key.channel} vanished during its takeover`);
      if (row.state === 'SENT' || row.state === 'FAILED') return { kind: 'finished', state: row.state };
      if (row.lease_owner !== this.owner) {
        return { kind: 'busy', leaseLeftMs: Number(row.lease_left_ms ?? 0) };
      }
      if (row.confirmed_channel_message_id !== null) {
        return { kind: 'confirmed', channelMessageId: row.confirmed_channel_message_id };
      }
      const attempts = await this.takeLease(sql, key, this.leaseMs, true);
      return { kind: 'resend', attempts };
    });
  }

  /**
   * A channel webhook said the channel has the message. Marks the row confirmed only while it is not
   * final (SENDING or RETRYING): a final row is left alone, and the first confirmation wins.
   * Idempotent; the row's owner (or the next claim) records SENT from it.
   *
   * @returns true when a row that was not final took the confirmation
   */
  async confirm(key: Pick<DeliveryKey, 'messageId' | 'channel'>, channelMessageId: string): Promise<boolean> {
    const rows = await sqlOf(this.dataSource.manager).rows<{ message_id: string }>(
      `UPDATE router_deliveries
          SET confirmed_channel_message_id = $3, confirmed_at = now()
        WHERE message_id = $1 AND channel = $2 AND state IN ('SENDING', 'RETRYING')
          AND confirmed_channel_message_id IS NULL
        RETURNING message_id`,
      [key.messageId, key.channel, channelMessageId],
    );
    return rows.length > 0;
  }

  /**
   * Gives a taken-over row back while still waiting for its confirmation (this replica is shutting
   * down): the lease ends now and the call start stays the dead owner's, so the next owner waits
   * only for the rest of the grace period.
   */
  async abandon(key: DeliveryKey): Promise<void> {
    await sqlOf(this.dataSource.manager).rows(
      `UPDATE router_deliveries SET lease_expires_at = now(), updated_at = now()
        WHERE message_id = $1 AND channel = $2 AND state = 'SENDING' AND lease_owner = $3`,
      [key.messageId, key.channel, this.owner],
    );
  }

  /** Makes this replica the row's owner for `leaseMs`; `call` counts and stamps a channel call. */
  private async takeLease(sql: Sql, key: DeliveryKey, leaseMs: number, call: boolean): Promise<number> {
    const [row] = await sql.rows<{ attempts: number }>(
      `UPDATE router_deliveries
          SET state = 'SENDING', lease_owner = $3,
              lease_expires_at = now() + make_interval(secs => $4::double precision / 1000),
              attempts = attempts + CASE WHEN $5 THEN 1 ELSE 0 END,
              call_started_at = CASE WHEN $5 THEN now() ELSE call_started_at END,
              redrive_id = COALESCE($6::uuid, redrive_id), updated_at = now()
        WHERE message_id = $1 AND channel = $2
        RETURNING attempts`,
      [key.messageId, key.channel, this.owner, leaseMs, call, key.redriveId ?? null],
    );
    return row!.attempts;
  }

  /**
   * Records the final outcome and enqueues its status in one transaction. A SENT outcome wins over
   * any unfinished row (the channel has the message, whoever owns the lease now); a FAILED one only
   * over this replica's own claim or a row nobody owns, so it never overrides a live sender.
   *
   * @returns false when the delivery was already final: nothing written, no status enqueued.
   */
  async finish(key: DeliveryKey, outcome: FinalOutcome, status: MessageStatusUpdate): Promise<boolean> {
    const event = prepareOutboxRow(this.statusTopic, {
      aggregateType: 'conversation',
      aggregateKey: key.conversationId,
      eventType: `message.status.${outcome.state.toLowerCase()}`,
      payload: status,
    });
    // One statement, so atomic on its own (one round trip): the outbox row is written only when
    // the upsert changed the delivery.
    const [row] = await sqlOf(this.dataSource.manager).rows<{ id: string }>(
      `WITH finished AS (
         INSERT INTO router_deliveries AS d
           (message_id, channel, conversation_id, state, channel_message_id, last_error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, 0)
         ON CONFLICT (message_id, channel) DO UPDATE
            SET state = EXCLUDED.state, channel_message_id = EXCLUDED.channel_message_id,
                last_error = COALESCE(EXCLUDED.last_error, d.last_error),
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
          WHERE d.state = 'RETRYING'
             OR (d.state = 'SENDING' AND ($4 = 'SENT' OR d.lease_owner = $7 OR d.lease_expires_at <= now()))
         RETURNING d.attempts)
       INSERT INTO outbox_events (${OUTBOX_ROW_COLUMNS})
       SELECT $8, $9, $10, $11, $12, $13, $14 FROM finished
       RETURNING id`,
      [
        key.messageId,
        key.channel,
        key.conversationId,
        outcome.state,
        outcome.state === 'SENT' ? outcome.channelMessageId : null,
        outcome.state === 'FAILED' ? outcome.reason : null,
        this.owner,
        ...outboxRowValues(event),
      ],
    );
    return row !== undefined;
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
