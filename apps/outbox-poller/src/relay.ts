import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { BreakerOpenError, type Breaker } from '@fleet/circuit-breaker';
import { FleetHeaders, OUTBOX_PUBLISHED_CHANNEL, type OutboxPublishedNotification } from '@fleet/contracts';
import { onConnection, type DataSource, type Sql } from '@fleet/db';
import { classifyPublishError, type FleetProducer, type TopicRecords } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { type ClaimedEvent, type OutboxRetryPolicy, type OutboxStore } from '@fleet/outbox';
import { type RelayMetrics } from './metrics';
import { type TopicGuard } from '@fleet/kafka';

/** Publishes notifications; best effort (a missed notification loses no event). */
export interface Notifier {
  publishAll(channel: string, messages: readonly string[]): Promise<void>;
}

export interface RelayOptions {
  dataSource: DataSource;
  store: OutboxStore;
  producer: FleetProducer;
  breaker: Breaker;
  logger: Logger;
  metrics: RelayMetrics;
  batchSize: number;
  pollIntervalMs: number;
  retryPolicy: OutboxRetryPolicy;
  /** Redis pub/sub, one notification per published event (seed 004); none in benchmarks. */
  notifier?: Notifier;
  /**
   * Rows whose topic does not exist are rejected before the producer sees them (see
   * {@link TopicGuard}); without it they reach the producer.
   */
  topics?: Pick<TopicGuard, 'missing'>;
  /**
   * Called when a claim came back full: there is a backlog, another loop may help with it (the
   * service wakes one that sleeps).
   */
  onBacklog?: () => void;
}

/** What happened to a claimed batch. */
interface BatchResult {
  published: ClaimedEvent[];
  rejected: { event: ClaimedEvent; error: string }[];
}

const tracer = trace.getTracer('outbox-poller');
const MAX_LOOP_BACKOFF_MS = 30_000;

/**
 * The poll loop. Each iteration is one database transaction: claim a batch (rows and their keys
 * locked), publish it, mark it published in one statement, commit. A failure before the commit
 * rolls everything back and the rows are simply claimed again: delivery is at least once, and a
 * duplicate carries the same `x-event-id`.
 *
 * - broker unavailable (or the breaker open): nothing is marked, the loop backs off; the outbox is
 *   the buffer and the events lose no attempts (the outage is not their fault);
 * - the broker rejects the batch (a record too large): each row is sent alone to find the
 *   culprits; a rejected row waits out its own backoff (holding back its key), and is parked after
 *   `maxAttempts`. A row whose topic does not exist is rejected the same way before any send
 *   ({@link TopicGuard}).
 */
export class OutboxRelay {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wokenEarly = false;
  private wakeableSleep = false;
  private announcing: Promise<void> = Promise.resolve();

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** True while the loop waits for work (between polls): {@link wake} starts a claim at once. */
  get sleeping(): boolean {
    return this.wakeableSleep && !this.wokenEarly;
  }

  /**
   * Ends the current wait at once (a NOTIFY arrived, or the breaker half-opened); a loop that is
   * busy claims once more after its current streak, so rows committed after its claim's snapshot
   * are not left for the next poll.
   */
  wake(): void {
    this.wokenEarly = true;
    this.wakeUp?.();
  }

  /** Lets the in-flight batch finish (published and committed, or rolled back), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    await this.announcing;
  }

  private async run(): Promise<void> {
    const { logger, breaker, pollIntervalMs } = this.options;
    let failures = 0;
    let contended = 0;
    while (!this.stopping) {
      if (!breaker.allowsCalls) {
        await this.sleep(pollIntervalMs);
        continue;
      }
      try {
        await this.ensureConnected();
        const outcome = await this.relayStreak();
        failures = 0;
        if (outcome === 'relayed') {
          contended = 0;
          continue;
        }
        if (outcome === 'drained') {
          contended = 0;
          await this.sleep(pollIntervalMs);
          continue;
        }
        if (outcome === 'contended') {
          // Rows are there but other pollers hold their keys, or published them under our
          // snapshot: try again soon (1, 2, 4 … ms), not after a whole poll interval.
          await this.sleep(Math.min(2 ** Math.min(contended++, 10), pollIntervalMs));
          continue;
        }
        contended = 0;
        await this.sleep(pollIntervalMs);
      } catch (error) {
        failures++;
        const delay = Math.min(pollIntervalMs * 2 ** Math.min(failures - 1, 10), MAX_LOOP_BACKOFF_MS);
        if (error instanceof BreakerOpenError) {
          logger.debug({ delayMs: delay }, 'kafka breaker open; outbox rows wait');
        } else {
          logger.warn({ err: error, failures, delayMs: delay }, 'outbox poll failed; backing off');
        }
        await this.sleep(delay, { wakeable: false });
      }
    }
  }

  private async ensureConnected(): Promise<void> {
    const { producer, breaker } = this.options;
    if (!producer.isConnected) await breaker.run(() => producer.connect());
  }

  /**
   * Relays batches on one connection until a claim comes back empty or the loop must pause. Each
   * batch is one transaction; a batch's mark, its COMMIT, the next BEGIN and the next claim
   * travel in one round trip. A batch that was not full ends the streak: there was no more to
   * claim. `drained`: batches went out, the last one not full; `relayed`: full batches went out
   * (a backlog, or the loop must pause); `contended`: nothing was
   * claimed though publishable rows exist (other pollers hold their keys); `idle`: no backlog.
   */
  async relayStreak(): Promise<'relayed' | 'drained' | 'contended' | 'idle'> {
    const { dataSource, store, batchSize, breaker } = this.options;
    // A throw anywhere rolls back the open transaction (onConnection); its rows are claimed again.
    return onConnection(dataSource, async (session) => {
      let events = await store.beginAndClaim(session, batchSize);
      let inTransaction = true;
      let relayed = false;
      let drained = false;
      while (events.length > 0) {
        relayed = true;
        const full = events.rowsClaimed >= batchSize;
        if (full) this.options.onBacklog?.();
        const endTimer = this.options.metrics.publishDuration.startTimer();
        const result = await this.publish(events);
        endTimer();
        await this.recordRejections(session, result.rejected);
        const ids = result.published.map((e) => e.id);
        // A batch that was not full drained the backlog as of its claim; rows committed since
        // then each sent a NOTIFY, which wakes a loop (this one after its streak, if no other
        // sleeps). Claiming again at once would come back empty nearly always, and an empty
        // claim costs the server about as much as a full one.
        if (this.stopping || !breaker.allowsCalls || !full) {
          drained = !full;
          await store.markPublishedAndCommit(session, ids);
          inTransaction = false;
          this.announce(result.published);
          break;
        }
        events = await store.markPublishedCommitAndClaim(session, ids, batchSize);
        this.announce(result.published);
      }
      if (inTransaction) await session.simple('COMMIT');
      if (drained) return 'drained';
      if (relayed) return 'relayed';
      return (await store.hasPublishable(session)) ? 'contended' : 'idle';
    });
  }

  private async recordRejections(session: Sql, rejected: BatchResult['rejected']): Promise<void> {
    const { store, metrics, retryPolicy, logger } = this.options;
    for (const { event, error } of rejected) {
      const { parked, attempts } = await store.recordRejection(session, event, error, retryPolicy);
      metrics.failures.inc({ kind: 'rejected' });
      if (parked) metrics.parkedTotal.inc({ topic: event.topic });
      logger[parked ? 'error' : 'warn'](
        { eventId: event.id, topic: event.topic, key: event.aggregateKey, attempts, error },
        parked ? 'outbox event parked after its last attempt' : 'broker rejected outbox event; backing off',
      );
    }
  }

  /** Counts committed events and, off the critical path, announces them on Redis. */
  private announce(events: ClaimedEvent[]): void {
    if (events.length === 0) return;
    const perTopic = new Map<string, number>();
    for (const event of events) perTopic.set(event.topic, (perTopic.get(event.topic) ?? 0) + 1);
    for (const [topic, count] of perTopic) this.options.metrics.published.inc({ topic }, count);
    // One announcement at a time: a notification is a hint, never the event.
    this.announcing = this.announcing.then(() => this.notify(events));
  }

  private async publish(claimed: ClaimedEvent[]): Promise<BatchResult> {
    // Asked through the breaker like a send: a broker that cannot answer is an unavailable broker
    // (the breaker opens on it, and while open the rows wait, as for a failed send).
    const { topics, breaker } = this.options;
    const missing = topics
      ? await breaker.run(() => topics.missing(claimed.map((e) => e.topic)))
      : new Set<string>();
    if (missing.size === 0) return this.send(claimed);
    // Rows for a topic that does not exist are rejected here; later rows of their keys wait.
    const refused: BatchResult['rejected'] = [];
    const heldKeys = new Set<string>();
    const sendable: ClaimedEvent[] = [];
    for (const event of claimed) {
      if (missing.has(event.topic)) {
        heldKeys.add(event.aggregateKey);
        refused.push({
          event,
          error: `topic ${event.topic} does not exist on the cluster (auto-creation is off): provision it`,
        });
      } else if (!heldKeys.has(event.aggregateKey)) sendable.push(event);
    }
    const sent = sendable.length > 0 ? await this.send(sendable) : { published: [], rejected: [] };
    return { published: sent.published, rejected: [...refused, ...sent.rejected] };
  }

  private async send(events: ClaimedEvent[]): Promise<BatchResult> {
    const { producer, metrics } = this.options;
    const spans = new Map<ClaimedEvent, Span>();
    const encoded = events.map((event) => ({ event, record: this.encode(event, spans) }));
    try {
      await producer.sendRawBatch(byTopic(encoded));
      this.logPublished(events, spans);
      return { published: events, rejected: [] };
    } catch (error) {
      if (classifyPublishError(error) === 'unavailable') {
        metrics.failures.inc({ kind: 'unavailable' });
        for (const span of spans.values()) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        }
        throw error;
      }
      const result = await this.isolate(encoded);
      this.logPublished(result.published, spans);
      return result;
    } finally {
      for (const span of spans.values()) span.end();
    }
  }

  /**
   * A debug line per published event, inside its publish span: it carries the writer's `trace_id`,
   * so the poller's hop shows in the logs of a trace (nothing else is logged for a good publish).
   */
  private logPublished(events: readonly ClaimedEvent[], spans: ReadonlyMap<ClaimedEvent, Span>): void {
    const { logger } = this.options;
    for (const event of events) {
      const log = () =>
        logger.debug(
          { eventId: event.id, topic: event.topic, key: event.aggregateKey, eventType: event.eventType },
          'outbox event published',
        );
      const span = spans.get(event);
      if (span) context.with(trace.setSpan(context.active(), span), log);
      else log();
    }
  }

  /** Sends rows one by one, oldest first, to tell the rejected ones from the rest. */
  private async isolate(
    encoded: { event: ClaimedEvent; record: TopicRecords['records'][number] }[],
  ): Promise<BatchResult> {
    const result: BatchResult = { published: [], rejected: [] };
    const failedKeys = new Set<string>();
    for (const { event, record } of encoded) {
      if (failedKeys.has(event.aggregateKey)) continue; // stays pending, behind its key's head row
      try {
        await this.options.producer.sendRawBatch([{ topic: event.topic, records: [record] }]);
        result.published.push(event);
      } catch (error) {
        if (classifyPublishError(error) === 'unavailable') break; // the rest stays pending
        failedKeys.add(event.aggregateKey);
        result.rejected.push({ event, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return result;
  }

  /**
   * The Kafka record of a row: its payload, key, stored headers and `x-event-id`. A row written
   * under a trace gets a PRODUCER span that is a child of the writer's span, so one trace runs
   * api → outbox → Kafka → consumer.
   */
  private encode(event: ClaimedEvent, spans: Map<ClaimedEvent, Span>): TopicRecords['records'][number] {
    const headers: Record<string, string> = { ...event.headers, [FleetHeaders.eventId]: event.id };
    if (headers[FleetHeaders.traceparent]) {
      const parent = propagation.extract(context.active(), headers);
      const span = tracer.startSpan(
        `${event.topic} publish`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': event.topic,
            'messaging.message.id': event.id,
            'messaging.kafka.message.key': event.aggregateKey,
          },
        },
        parent,
      );
      spans.set(event, span);
      propagation.inject(trace.setSpan(parent, span), headers);
    }
    return { key: event.aggregateKey, value: event.payload, headers };
  }

  private async notify(events: ClaimedEvent[]): Promise<void> {
    const { notifier, logger } = this.options;
    if (!notifier || events.length === 0) return;
    const publishedAt = new Date().toISOString();
    const messages = events.map((event) =>
      JSON.stringify({
        eventId: event.id,
        topic: event.topic,
        key: event.aggregateKey,
        eventType: event.eventType,
        aggregateType: event.aggregateType,
        publishedAt,
      } satisfies OutboxPublishedNotification),
    );
    try {
      await notifier.publishAll(OUTBOX_PUBLISHED_CHANNEL, messages);
    } catch (error) {
      logger.warn({ err: error, events: events.length }, 'redis notification of published events failed');
    }
  }

  private sleep(ms: number, { wakeable = true } = {}): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (wakeable && this.wokenEarly) {
      this.wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        if (wakeable || this.stopping) done();
      };
      this.wakeableSleep = wakeable;
    }).finally(() => {
      this.wakeUp = undefined;
      this.wakeableSleep = false;
      this.wokenEarly = false;
    });
  }
}

function byTopic(
  encoded: { event: ClaimedEvent; record: TopicRecords['records'][number] }[],
): TopicRecords[] {
  const topics = new Map<string, TopicRecords['records'][number][]>();
  for (const { event, record } of encoded) {
    const list = topics.get(event.topic) ?? [];
    list.push(record);
    topics.set(event.topic, list);
  }
  return [...topics].map(([topic, records]) => ({ topic, records }));
}
