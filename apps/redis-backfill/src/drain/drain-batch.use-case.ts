import { Inject, Injectable } from '@nestjs/common';
import { type Breaker } from '@fleet/circuit-breaker';
import { classifyHandlerError, classifyPublishError, type FleetProducer } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { parseFallbackEntry, type FallbackQueue, type LockToken } from '@fleet/redis';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { FALLBACK_QUEUE, FLEET_PRODUCER, KAFKA_BREAKER } from '../app.tokens';
import { type Config } from '../config';
import { type ClaimedRecord, groupByTopic, RejectionCounter, toKafkaRecord, toTopicBatches } from './batch';
import { type DeadLetterCode, type DrainMetrics } from './drain.metrics';
import { DRAIN_METRICS } from './drain.tokens';

/**
 * What one round did, which tells the loop when to run the next:
 * - `empty`: nothing was waiting → wait a poll interval;
 * - `partial`: fewer than a batch → wait a poll interval;
 * - `full`: a whole batch went out → more is probably waiting, go again at once;
 * - `failed`: records went back to the queue → back off.
 */
export type BatchOutcome = 'empty' | 'partial' | 'full' | 'failed';

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One drain round, top-down: claim → parse (unparseable → dead list) → send through the breaker →
 * ack; on failure requeue. Every Redis step is fenced by the drain lock, so when this replica lost
 * the lock, the step throws `LOCK_LOST` and changes nothing.
 */
@Injectable()
export class DrainBatch {
  private readonly rejections: RejectionCounter;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(FALLBACK_QUEUE) private readonly queue: FallbackQueue,
    @Inject(FLEET_PRODUCER) private readonly producer: FleetProducer,
    @Inject(KAFKA_BREAKER) private readonly breaker: Breaker,
    @Inject(DRAIN_METRICS) private readonly metrics: DrainMetrics,
  ) {
    this.rejections = new RejectionCounter(config.FALLBACK_MAX_REJECTIONS);
  }

  async run(lock: LockToken): Promise<BatchOutcome> {
    // Connect before claiming: while the broker is down, records stay put in the queue.
    if (!(await this.connected())) return 'failed';
    const batchSize = this.config.FALLBACK_BATCH_SIZE;
    const { entries, recovered } = await this.queue.claim(lock, batchSize);
    if (entries.length === 0) return 'empty';
    if (recovered) {
      this.logger.info(
        { records: entries.length },
        'recovering records an earlier drainer left in processing (it stopped mid-batch)',
      );
    }
    const done: BatchOutcome = entries.length >= batchSize ? 'full' : 'partial';

    const valid: ClaimedRecord[] = [];
    for (const raw of entries) {
      const parsed = parseFallbackEntry(raw);
      if (parsed.ok) valid.push({ raw, record: parsed.record });
      else await this.deadLetter(lock, raw, parsed.code, parsed.reason);
    }
    if (valid.length === 0) return done;

    try {
      await this.producer.sendRawBatch(toTopicBatches(valid));
    } catch (error) {
      if (classifyPublishError(error) === 'rejected') return this.isolateRejected(lock, valid, done);
      return this.requeue(lock, valid.length, error);
    }
    await this.queue.ack(lock);
    this.sent(valid);
    return done;
  }

  /**
   * The producer connects lazily, through the breaker, so a dead broker opens it like a failed send
   * and the app starts (and reports its queue) while the broker is down.
   */
  private async connected(): Promise<boolean> {
    if (this.producer.isConnected) return true;
    try {
      await this.breaker.run(() => this.producer.connect());
      this.logger.info({}, 'connected to Kafka');
      return true;
    } catch (error) {
      if (classifyHandlerError(error) === 'crash') throw error;
      this.logger.warn(
        { err: error, breaker: this.breaker.state },
        'cannot connect to Kafka; records stay queued',
      );
      return false;
    }
  }

  /**
   * The broker rejected the batch as a whole (an unknown topic, a record too large…): send topic by
   * topic, then record by record within a rejected topic, so the good records go out and each bad
   * one is charged a rejection. A record out of tries goes to the dead list; the rest go back to the
   * head of the queue. A record sent here may overtake an older record of its key that the broker
   * rejected — that older record is on its way to the dead list.
   */
  private async isolateRejected(
    lock: LockToken,
    valid: readonly ClaimedRecord[],
    done: BatchOutcome,
  ): Promise<BatchOutcome> {
    for (const { topic, items } of groupByTopic(valid)) {
      try {
        await this.producer.sendRaw(
          topic,
          items.map((item) => toKafkaRecord(item.record)),
        );
        await this.ackEach(lock, items);
        continue;
      } catch (error) {
        if (classifyPublishError(error) !== 'rejected') return this.requeue(lock, valid.length, error);
        if (items.length === 1) {
          await this.rejected(lock, items[0]!, error);
          continue;
        }
      }
      for (const item of items) {
        try {
          await this.producer.sendRaw(topic, [toKafkaRecord(item.record)]);
          await this.ackEach(lock, [item]);
        } catch (error) {
          if (classifyPublishError(error) !== 'rejected') return this.requeue(lock, valid.length, error);
          await this.rejected(lock, item, error);
        }
      }
    }
    const waiting = await this.queue.requeue(lock);
    if (waiting === 0) return done;
    this.metrics.requeued.inc(waiting);
    return 'failed';
  }

  private async ackEach(lock: LockToken, items: readonly ClaimedRecord[]): Promise<void> {
    for (const item of items) await this.queue.ackEntry(lock, item.raw);
    this.sent(items);
  }

  private sent(items: readonly ClaimedRecord[]): void {
    for (const { topic, items: ofTopic } of groupByTopic(items)) {
      this.metrics.drained.inc({ topic }, ofTopic.length);
      for (const item of ofTopic) this.rejections.forget(item.record.id);
    }
  }

  private async rejected(lock: LockToken, item: ClaimedRecord, error: unknown): Promise<void> {
    const { id, topic } = item.record;
    if (this.rejections.reject(id)) {
      const tries = this.config.FALLBACK_MAX_REJECTIONS;
      await this.deadLetter(
        lock,
        item.raw,
        'REJECTED_BY_BROKER',
        `${errorMessage(error)} (rejected ${tries} times)`,
        {
          id,
          topic,
        },
      );
      return;
    }
    this.logger.warn(
      { err: error, id, topic, rejections: this.rejections.count(id) },
      'the broker rejected a fallback record; it stays queued until it runs out of tries',
    );
  }

  private async deadLetter(
    lock: LockToken,
    raw: string,
    code: DeadLetterCode,
    detail: string,
    fields: object = {},
  ): Promise<void> {
    const reason = `${code}: ${detail}`;
    await this.queue.deadLetter(lock, raw, reason);
    this.metrics.deadLettered.inc({ reason: code });
    this.logger.warn({ ...fields, reason }, 'fallback entry moved to the dead list');
  }

  private async requeue(lock: LockToken, records: number, error: unknown): Promise<BatchOutcome> {
    const moved = await this.queue.requeue(lock);
    this.metrics.requeued.inc(moved);
    this.logger.warn(
      { err: error, records, requeued: moved, breaker: this.breaker.state },
      'sending to Kafka failed; records are back at the head of the fallback queue',
    );
    return 'failed';
  }
}
