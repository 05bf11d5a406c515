import { type DlqReason, dlqTopicOf, FleetHeaders, retryTopicOf, type TopicContract } from '@fleet/contracts';
import { type Consumer, type EachBatchPayload, type IHeaders, type Kafka, type KafkaMessage } from 'kafkajs';
import { type Registry } from 'prom-client';
import { backoffMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff';
import {
  classifyHandlerError,
  classifyPublishError,
  errorCodeOf,
  errorMessageOf,
  isDependencyUnavailable,
  retryAfterMsOf,
} from './errors';
import { stringHeaders } from './headers';
import { type RuntimeLogger } from './logger';
import { kafkaMetrics, type KafkaMetrics } from './metrics';
import { type FleetProducer } from './producer';
import { recordFailure, withConsumerSpan } from './tracing';

/** What a handler knows about the message besides its validated value. */
export interface MessageContext {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Readonly<Record<string, string>>;
  /** The `x-event-id` header, when the producer set one (the outbox always does). */
  eventId: string | undefined;
  /** 1 for the first delivery, 2 for the first retry, … */
  attempt: number;
  /**
   * Set when an operator redrove this record from its DLQ (`x-redrive-id`, `x-redrive-count`): a
   * handler that keeps a failure as final (a refused delivery) may try once more, once per redrive.
   */
  redrive?: { id: string; count: number };
}

export type MessageHandler<T> = (value: T, context: MessageContext) => Promise<void>;

/** One message of a batch: its validated value and its context. */
export interface BatchItem<T> {
  value: T;
  context: MessageContext;
}

/**
 * Handles consecutive first deliveries of one partition at once. Resolving means every item was
 * handled. Throwing makes the runtime hand each item to the subscription's `handler`, in order,
 * so every message still gets its own outcome (retry, DLQ); the batch handler must therefore do
 * what those calls would do, all or nothing, or be safe to follow by them (idempotent).
 */
export type BatchHandler<T> = (items: ReadonlyArray<BatchItem<T>>) => Promise<void>;

export interface SubscribeOptions<T> {
  /** Handles runs of messages in one go (one database statement instead of one per message). */
  batch?: BatchHandler<T>;
  /** Largest run given to `batch`. @defaultValue 100 */
  maxBatchSize?: number;
  /**
   * First deliveries of one partition handled at the same time, up to this many, as long as their
   * keys differ: a key's messages are always handled one after the other, in offset order, so
   * order per key holds while one slow key no longer holds back the others of its partition.
   * Offsets are committed up to the first message not yet handled. Records without a key are
   * independent of each other. Not with `batch`. @defaultValue 1 (the partition in order)
   */
  keyConcurrency?: number;
}

export interface Subscription<T> extends SubscribeOptions<T> {
  contract: TopicContract<T>;
  handler: MessageHandler<T>;
}

/** Typed helper so each subscription keeps its own payload type inside a mixed list. */
export function subscribe<T>(
  contract: TopicContract<T>,
  handler: MessageHandler<T>,
  options: SubscribeOptions<T> = {},
): Subscription<unknown> {
  const { keyConcurrency } = options;
  if (keyConcurrency !== undefined && (!Number.isSafeInteger(keyConcurrency) || keyConcurrency < 1)) {
    throw new TypeError(`${contract.name}: keyConcurrency must be a positive integer`);
  }
  if (keyConcurrency !== undefined && keyConcurrency > 1 && options.batch) {
    throw new TypeError(`${contract.name}: keyConcurrency and batch cannot be combined`);
  }
  return { contract, handler, ...options } as Subscription<unknown>;
}

const DEFAULT_MAX_BATCH_SIZE = 100;

export interface FleetConsumerOptions {
  /** Consumer group; its retry companion is `${groupId}.retry`. */
  groupId: string;
  subscriptions: ReadonlyArray<Subscription<unknown>>;
  /** Used to write `.retry` and `.dlq` records; must be connected before `start()`. */
  producer: FleetProducer;
  registry: Registry;
  logger: RuntimeLogger;
  /** @defaultValue {@link DEFAULT_RETRY_POLICY} */
  retry?: Partial<RetryPolicy>;
  /** Broker evicts a member it has not heard from for this long. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /**
   * A handler failing because a dependency is down ({@link isDependencyUnavailable}: its database
   * restarting, Redis gone) is run again in place, the partition waiting, for up to this long
   * before the failure counts as an attempt: the outage is not the message's fault, and a few
   * seconds of PostgreSQL downtime must not spend a message's retries or dead-letter it.
   * 0 turns the wait off. @defaultValue 300000
   */
  dependencyOutageWaitMs?: number;
  /** Heartbeats are sent this often, also while a handler runs. @defaultValue 3000 */
  heartbeatIntervalMs?: number;
  /** Partitions handled in parallel by one process; order within a partition always holds. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** Resolved offsets are committed at least this often (and at every batch end and stop). @defaultValue 1000 */
  autoCommitIntervalMs?: number;
  /**
   * Called when a handler throws a programmer error. The message is not committed. The default
   * logs at fatal level and exits the process with code 70 (EX_SOFTWARE): a bug must be loud,
   * and a restart after the fix redelivers the message.
   */
  onFatalError?: (error: unknown, context: MessageContext) => void;
}

type Outcome = 'done' | 'stop';

interface Delivery {
  contract: TopicContract<unknown>;
  handler: MessageHandler<unknown>;
  attempt: number;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  firstFailureAt: string | undefined;
}

/** What a handler is told about `message`, at its original coordinates. */
function contextOf(
  contract: TopicContract<unknown>,
  message: KafkaMessage,
  headers: Record<string, string>,
  at: { partition: number; offset: string; attempt: number },
): MessageContext {
  return {
    topic: contract.name,
    partition: at.partition,
    offset: at.offset,
    key: message.key?.toString() ?? null,
    headers,
    eventId: headers[FleetHeaders.eventId],
    attempt: at.attempt,
    ...redriveOf(headers),
  };
}

function redriveOf(headers: Record<string, string>): Pick<MessageContext, 'redrive'> {
  const id = headers[FleetHeaders.redriveId];
  const count = Number(headers[FleetHeaders.redriveCount]);
  return id && Number.isInteger(count) && count > 0 ? { redrive: { id, count } } : {};
}

/** Headers the runtime adds on `.retry` records; stripped before a record moves on to the DLQ. */
const RETRY_HEADERS = new Set<string>([
  FleetHeaders.retryGroup,
  FleetHeaders.retryAttempt,
  FleetHeaders.retryDueAt,
  FleetHeaders.lastError,
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A consumer group with one explicit outcome for every message:
 *
 * - handler succeeds → offset committed;
 * - value empty, not JSON, or not matching the contract → `.dlq` at once;
 * - handler throws a non-retriable error → `.dlq` at once;
 * - handler throws a retriable error → the record goes to `<topic>.retry` with a due time and the
 *   partition moves on; a companion consumer (`<group>.retry`) re-runs it when due, until
 *   `maxAttempts`, then `.dlq`. Only the failed message is reordered relative to its key;
 * - handler throws a programmer error → {@link FleetConsumerOptions.onFatalError}, nothing committed.
 *
 * Heartbeats keep flowing while a handler runs (KafkaJS only sends them between messages), so a
 * handler longer than the session timeout does not get its member evicted.
 */
export class FleetConsumer {
  private readonly main: Consumer;
  private readonly retryConsumer: Consumer;
  private readonly policy: RetryPolicy;
  private readonly metrics: KafkaMetrics;
  private readonly byTopic: Map<string, Subscription<unknown>>;
  private readonly heartbeatIntervalMs: number;
  private readonly onFatalError: (error: unknown, context: MessageContext) => void;
  private started = false;
  private stopping = false;
  private fatal = false;

  constructor(
    kafka: Kafka,
    private readonly options: FleetConsumerOptions,
  ) {
    if (options.subscriptions.length === 0) throw new Error('FleetConsumer needs at least one subscription');
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.metrics = kafkaMetrics(options.registry);
    this.byTopic = new Map(options.subscriptions.map((s) => [s.contract.name, s]));
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    this.onFatalError =
      options.onFatalError ??
      ((error, context) => {
        options.logger.fatal(
          { err: error, topic: context.topic, partition: context.partition, offset: context.offset },
          'programmer error in message handler; exiting without committing the message',
        );
        process.exit(70);
      });
    const common = {
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    };
    this.main = kafka.consumer({ groupId: options.groupId, ...common });
    this.retryConsumer = kafka.consumer({ groupId: `${options.groupId}.retry`, ...common });
    for (const consumer of [this.main, this.retryConsumer]) {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.metrics.rebalances.inc({ group: event.payload.groupId });
        options.logger.info(
          {
            group: event.payload.groupId,
            memberId: event.payload.memberId,
            assignment: event.payload.memberAssignment,
          },
          'joined consumer group',
        );
      });
      consumer.on(consumer.events.CRASH, (event) => {
        options.logger.error(
          { group: event.payload.groupId, err: event.payload.error, restart: event.payload.restart },
          'consumer crashed',
        );
      });
    }
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Joins both groups and starts consuming; resolves once both have joined. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const topics = [...this.byTopic.keys()];
    const run = (consumer: Consumer, retryMode: boolean) =>
      consumer.run({
        autoCommit: true,
        autoCommitInterval: this.options.autoCommitIntervalMs ?? 1_000,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.handleBatch(payload, retryMode),
      });
    const joined = (consumer: Consumer) =>
      new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
      });
    await Promise.all([this.main.connect(), this.retryConsumer.connect()]);
    // New groups start at the earliest offset: a message written before the first deploy is work too.
    await this.main.subscribe({ topics, fromBeginning: true });
    await this.retryConsumer.subscribe({ topics: topics.map(retryTopicOf), fromBeginning: true });
    const bothJoined = Promise.all([joined(this.main), joined(this.retryConsumer)]);
    await Promise.all([run(this.main, false), run(this.retryConsumer, true)]);
    await bothJoined;
  }

  /**
   * Stops fetching, lets the in-flight message finish, commits what was handled and leaves the group.
   * Messages fetched but not started are not committed: the next member of the group gets them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.main.disconnect(), this.retryConsumer.disconnect()]);
  }

  private async handleBatch(payload: EachBatchPayload, retryMode: boolean): Promise<void> {
    const { batch } = payload;
    const subscription = retryMode ? undefined : this.byTopic.get(batch.topic);
    const messages = batch.messages;
    const keyConcurrency = subscription?.keyConcurrency ?? 1;
    if (keyConcurrency > 1) {
      await this.handleByKey(payload, keyConcurrency);
      return;
    }
    let i = 0;
    while (i < messages.length) {
      if (this.halted(payload)) break;
      // A run of first deliveries for a batch handler: one call for all of them.
      const run = subscription?.batch ? this.decodedRun(subscription, batch.partition, messages, i) : [];
      if (run.length > 1 && (await this.handleRun(subscription!, run, payload))) {
        for (const item of run) this.settled(payload, retryMode, item.message);
        i += run.length;
        if (await this.afterSettled(payload, messages[i - 1]!)) break;
        continue;
      }
      // One message at a time (also each item of a run whose batch handler failed).
      const end = Math.max(i + 1, i + run.length);
      for (; i < end; i++) {
        if (this.halted(payload)) return;
        const message = messages[i]!;
        const outcome = await this.handleMessage(batch.topic, batch.partition, message, retryMode, payload);
        if (outcome === 'stop') return;
        this.settled(payload, retryMode, message);
        if (await this.afterSettled(payload, message)) return;
      }
    }
  }

  /**
   * A batch of first deliveries, up to `limit` messages at a time, one at a time per key in offset
   * order. Offsets are resolved only as far as every message before them is handled: when the
   * consumer stops, the messages in flight finish, none is started, and everything after the
   * first one not handled is delivered again to the next member (at least once, as always).
   */
  private async handleByKey(payload: EachBatchPayload, limit: number): Promise<void> {
    const { batch } = payload;
    const messages = batch.messages;
    const handled = new Array<boolean>(messages.length).fill(false);
    let settledUpTo = 0; // messages[0 … settledUpTo) are handled and resolved
    // The runtime's own failure (the DLQ or `.retry` write failed): nothing new starts, the
    // messages in flight finish, and it is thrown as the sequential path would throw it.
    let failure: { error: unknown } | undefined;
    const halted = () => this.halted(payload) || failure !== undefined;
    const tails = new Map<string, Promise<void>>();
    const tasks: Array<Promise<void>> = [];
    // Between messages the sequential path heartbeats and commits; here they overlap, so one
    // timer does both for the whole batch (a long batch neither loses the group nor its progress).
    const ticker = this.pacemaker(payload, { commit: true });
    // `limit` handlers at a time, taken in the order their messages became ready: a message
    // waiting for an earlier one of its key holds no slot, so one busy key never idles the others.
    let running = 0;
    const ready: Array<() => void> = [];
    const slot = () =>
      running < limit ? (running++, Promise.resolve()) : new Promise<void>((go) => ready.push(go));
    const release = () => {
      const next = ready.shift();
      if (next) next();
      else running--;
    };
    for (let i = 0; i < messages.length && !halted(); i++) {
      const message = messages[i]!;
      // A record without a key waits for nobody (its offset makes it a key of its own).
      const key = message.key === null ? `\u0000${message.offset}` : message.key.toString('latin1');
      const task = (tails.get(key) ?? Promise.resolve()).then(async () => {
        await slot();
        try {
          if (halted()) return;
          const outcome = await this.handleMessage(batch.topic, batch.partition, message, false, payload);
          if (outcome === 'stop') return;
        } catch (error) {
          failure ??= { error };
          return;
        } finally {
          release();
        }
        handled[i] = true;
        while (settledUpTo < messages.length && handled[settledUpTo]) {
          this.settled(payload, false, messages[settledUpTo]!);
          settledUpTo++;
        }
      });
      tasks.push(task);
      tails.set(key, task);
    }
    await Promise.all(tasks);
    clearInterval(ticker);
    if (failure) throw failure.error;
    if (settledUpTo > 0) await this.afterSettled(payload, messages[settledUpTo - 1]!);
  }

  /** Whether to start no further message of this batch. */
  private halted(payload: EachBatchPayload): boolean {
    return !payload.isRunning() || payload.isStale() || this.stopping || this.fatal;
  }

  /** Marks a handled message's offset and the partition's lag. */
  private settled(payload: EachBatchPayload, retryMode: boolean, message: KafkaMessage): void {
    const { batch } = payload;
    payload.resolveOffset(message.offset);
    this.metrics.lag.set(
      {
        topic: batch.topic,
        group: retryMode ? `${this.options.groupId}.retry` : this.options.groupId,
        partition: String(batch.partition),
      },
      Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
    );
  }

  /** Commits (at once when stopping) and heartbeats after `last` was handled; true: stop here. */
  private async afterSettled(payload: EachBatchPayload, last: KafkaMessage): Promise<boolean> {
    const { batch } = payload;
    if (this.stopping) {
      // Commit now rather than at the next interval: the process is about to go away.
      await payload.commitOffsetsIfNecessary({
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }],
          },
        ],
      });
      return true;
    }
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat().catch((err: unknown) => this.options.logger.warn({ err }, 'heartbeat failed'));
    return false;
  }

  /** Consecutive messages from `start` whose values validate, up to the subscription's batch size. */
  private decodedRun(
    subscription: Subscription<unknown>,
    partition: number,
    messages: readonly KafkaMessage[],
    start: number,
  ): Array<BatchItem<unknown> & { message: KafkaMessage }> {
    const max = subscription.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    const run: Array<BatchItem<unknown> & { message: KafkaMessage }> = [];
    for (let i = start; i < messages.length && run.length < max; i++) {
      const message = messages[i]!;
      const decoded = decode(subscription.contract, message.value);
      if (!decoded.ok) break; // handled alone: to the DLQ
      const headers = stringHeaders(message.headers);
      run.push({
        message,
        value: decoded.value,
        context: contextOf(subscription.contract, message, headers, {
          partition,
          offset: message.offset,
          attempt: 1,
        }),
      });
    }
    return run;
  }

  /**
   * Runs a subscription's batch handler on `run`, each message with its own consumer span (a child
   * of its producer's). true: every message was handled; false: the handler threw, and the caller
   * hands the messages to the per-message handler one by one.
   */
  private async handleRun(
    subscription: Subscription<unknown>,
    run: ReadonlyArray<BatchItem<unknown> & { message: KafkaMessage }>,
    payload: EachBatchPayload,
  ): Promise<boolean> {
    const labels = { topic: subscription.contract.name, group: this.options.groupId };
    const stopTimer = this.metrics.handlerDuration.startTimer(labels);
    const pacemaker = this.pacemaker(payload);
    // Nested so that every message's span stays open until the batch is done.
    const within = async (index: number): Promise<void> => {
      if (index === run.length) return subscription.batch!(run);
      const { message, context } = run[index]!;
      return withConsumerSpan(
        subscription.contract.name,
        message.headers ?? {},
        { ...this.spanAttributes(context), 'messaging.batch.message_count': run.length },
        async () => {
          await within(index + 1);
          this.logHandled(context);
        },
      );
    };
    try {
      await within(0);
      this.metrics.consumed.inc(labels, run.length);
      this.metrics.processed.inc(labels, run.length);
      return true;
    } catch (error) {
      this.options.logger.warn(
        { err: error, topic: labels.topic, messages: run.length },
        'batch handler failed; handling its messages one by one',
      );
      return false;
    } finally {
      clearInterval(pacemaker);
      stopTimer();
    }
  }

  /**
   * Heartbeats while handlers run (KafkaJS only sends them between messages), and with `commit`
   * commits the offsets resolved meanwhile; a tick is skipped while the last one is pending.
   * Clear it after.
   */
  private pacemaker(payload: EachBatchPayload, { commit = false } = {}): NodeJS.Timeout {
    let pending = false;
    return setInterval(() => {
      if (pending) return;
      pending = true;
      Promise.all([payload.heartbeat(), commit ? payload.commitOffsetsIfNecessary() : undefined])
        .catch((err: unknown) =>
          this.options.logger.warn({ err }, commit ? 'heartbeat or commit failed' : 'heartbeat failed'),
        )
        .finally(() => (pending = false));
    }, this.heartbeatIntervalMs);
  }

  /**
   * A debug line per handled message, written inside its consumer span so that it carries the
   * message's `trace_id`: the hop's entry in the logs, for when a trace must be followed there.
   */
  private logHandled(context: MessageContext): void {
    this.options.logger.debug(
      {
        topic: context.topic,
        partition: context.partition,
        offset: context.offset,
        key: context.key,
        eventId: context.eventId,
        attempt: context.attempt,
      },
      'message handled',
    );
  }

  private spanAttributes(context: MessageContext): Record<string, string | number> {
    return {
      'messaging.consumer.group.name': this.options.groupId,
      'messaging.kafka.message.offset': context.offset,
      'messaging.destination.partition.id': String(context.partition),
      'messaging.fleet.attempt': context.attempt,
    };
  }

  private async handleMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    retryMode: boolean,
    payload: EachBatchPayload,
  ): Promise<Outcome> {
    const headers = stringHeaders(message.headers);
    const delivery = retryMode
      ? this.retryDelivery(headers)
      : this.firstDelivery(topic, partition, message.offset);
    if (!delivery) return 'done'; // a retry record addressed to another consumer group
    const { contract } = delivery;
    const labels = { topic: contract.name, group: this.options.groupId };
    if (retryMode) {
      const dueAt = Number(headers[FleetHeaders.retryDueAt] ?? 0);
      if (!(await this.waitUntil(dueAt, payload))) return 'stop';
    }
    this.metrics.consumed.inc(labels);

    const context = contextOf(contract, message, headers, {
      partition: delivery.originalPartition,
      offset: delivery.originalOffset,
      attempt: delivery.attempt,
    });

    const decoded = decode(contract, message.value);
    if (!decoded.ok) {
      await this.deadLetter(message, delivery, decoded.reason, decoded.reason, decoded.message);
      return 'done';
    }

    return withConsumerSpan(
      contract.name,
      message.headers ?? {},
      this.spanAttributes(context),
      async (span) => {
        const stopTimer = this.metrics.handlerDuration.startTimer(labels);
        const pacemaker = this.pacemaker(payload);
        try {
          await this.riding(() => delivery.handler(decoded.value, context), context, labels);
          this.metrics.processed.inc(labels);
          this.logHandled(context);
          return 'done';
        } catch (error) {
          recordFailure(span, error);
          const outcome = classifyHandlerError(error);
          this.metrics.failed.inc({ ...labels, outcome });
          if (outcome === 'crash') {
            this.fatal = true;
            this.onFatalError(error, context);
            return 'stop';
          }
          if (outcome === 'dead-letter') {
            await this.deadLetter(
              message,
              delivery,
              'NON_RETRIABLE',
              errorCodeOf(error),
              errorMessageOf(error),
            );
          } else if (delivery.attempt >= this.policy.maxAttempts) {
            await this.deadLetter(
              message,
              delivery,
              'RETRIES_EXHAUSTED',
              errorCodeOf(error),
              errorMessageOf(error),
            );
          } else {
            await this.scheduleRetry(message, delivery, error);
          }
          return 'done';
        } finally {
          clearInterval(pacemaker);
          stopTimer();
        }
      },
    );
  }

  /**
   * Runs `handle`; while it fails because a dependency is unreachable, runs it again (backoff
   * 250 ms doubling to 5 s) for up to `dependencyOutageWaitMs`. Heartbeats go on meanwhile.
   */
  private async riding(
    handle: () => Promise<void>,
    context: MessageContext,
    labels: { topic: string; group: string },
  ): Promise<void> {
    const limitMs = this.options.dependencyOutageWaitMs ?? 300_000;
    const started = Date.now();
    for (let wait = 0; ; wait++) {
      try {
        await handle();
        if (wait > 0) {
          this.options.logger.info(
            {
              topic: context.topic,
              partition: context.partition,
              offset: context.offset,
              waits: wait,
              ms: Date.now() - started,
            },
            'dependency back; message handled',
          );
        }
        return;
      } catch (error) {
        if (this.stopping || Date.now() - started >= limitMs || !isDependencyUnavailable(error)) throw error;
        this.metrics.failed.inc({ ...labels, outcome: 'dependency-wait' });
        if (wait === 0 || wait % 10 === 0) {
          this.options.logger.warn(
            {
              err: error,
              topic: context.topic,
              partition: context.partition,
              offset: context.offset,
              waits: wait,
            },
            'a dependency is unreachable; the message waits in place (no attempt spent)',
          );
        }
        await sleep(Math.min(250 * 2 ** Math.min(wait, 5), 5_000));
      }
    }
  }

  private firstDelivery(topic: string, partition: number, offset: string): Delivery {
    const subscription = this.byTopic.get(topic);
    if (!subscription) throw new Error(`received a message from unsubscribed topic ${topic}`);
    return {
      ...subscription,
      attempt: 1,
      originalTopic: topic,
      originalPartition: partition,
      originalOffset: offset,
      firstFailureAt: undefined,
    };
  }

  private retryDelivery(headers: Record<string, string>): Delivery | undefined {
    if (headers[FleetHeaders.retryGroup] !== this.options.groupId) return undefined;
    const originalTopic = headers[FleetHeaders.originalTopic] ?? '';
    const subscription = this.byTopic.get(originalTopic);
    if (!subscription) return undefined;
    return {
      ...subscription,
      attempt: Number(headers[FleetHeaders.retryAttempt] ?? 2),
      originalTopic,
      originalPartition: Number(headers[FleetHeaders.originalPartition] ?? -1),
      originalOffset: headers[FleetHeaders.originalOffset] ?? '-1',
      firstFailureAt: headers[FleetHeaders.firstFailureAt],
    };
  }

  /** Waits for a retry's due time while heartbeating; false when the consumer is stopping meanwhile. */
  private async waitUntil(dueAt: number, payload: EachBatchPayload): Promise<boolean> {
    for (;;) {
      if (!payload.isRunning() || this.stopping) return false;
      const remaining = dueAt - Date.now();
      if (remaining <= 0) return true;
      await sleep(Math.min(remaining, this.heartbeatIntervalMs, 500));
      await payload
        .heartbeat()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'heartbeat failed'));
    }
  }

  private async scheduleRetry(message: KafkaMessage, delivery: Delivery, error: unknown): Promise<void> {
    const nextAttempt = delivery.attempt + 1;
    // A Retry-After from the failing side is honoured, even past the policy's longest backoff.
    const delayMs = Math.max(backoffMs(this.policy, nextAttempt), retryAfterMsOf(error));
    const headers: IHeaders = {
      ...withoutRetryHeaders(message.headers),
      [FleetHeaders.retryGroup]: this.options.groupId,
      [FleetHeaders.retryAttempt]: String(nextAttempt),
      [FleetHeaders.retryDueAt]: String(Date.now() + delayMs),
      [FleetHeaders.originalTopic]: delivery.originalTopic,
      [FleetHeaders.originalPartition]: String(delivery.originalPartition),
      [FleetHeaders.originalOffset]: delivery.originalOffset,
      [FleetHeaders.firstFailureAt]: delivery.firstFailureAt ?? new Date().toISOString(),
      [FleetHeaders.lastError]: `${errorCodeOf(error)}: ${errorMessageOf(error)}`.slice(0, 1_000),
    };
    try {
      await this.options.producer.sendRaw(retryTopicOf(delivery.originalTopic), [
        { key: message.key, value: message.value, headers },
      ]);
    } catch (sendError) {
      // The broker refuses the retry record itself (a value near its limit no longer fits with the
      // retry headers on top): no retry can ever be written, so the message is dead-lettered now
      // rather than failing the batch and blocking the partition for good.
      if (classifyPublishError(sendError) !== 'rejected') throw sendError;
      await this.deadLetter(
        message,
        delivery,
        'NON_RETRIABLE',
        'RETRY_RECORD_REJECTED',
        `the retry record was refused (${errorMessageOf(sendError)}); last error: ${errorCodeOf(error)}: ${errorMessageOf(error)}`,
      );
      return;
    }
    this.metrics.retried.inc({ topic: delivery.originalTopic, group: this.options.groupId });
    this.options.logger.warn(
      {
        topic: delivery.originalTopic,
        partition: delivery.originalPartition,
        offset: delivery.originalOffset,
        ...recordIds(message),
        attempt: delivery.attempt,
        nextAttempt,
        delayMs,
        err: error,
      },
      'handler failed; retry scheduled',
    );
  }

  private async deadLetter(
    message: KafkaMessage,
    delivery: Delivery,
    reason: DlqReason,
    errorCode: string,
    errorMessage: string,
  ): Promise<void> {
    const headers: IHeaders = {
      ...withoutRetryHeaders(message.headers),
      [FleetHeaders.originalTopic]: delivery.originalTopic,
      [FleetHeaders.originalPartition]: String(delivery.originalPartition),
      [FleetHeaders.originalOffset]: delivery.originalOffset,
      [FleetHeaders.firstFailureAt]: delivery.firstFailureAt ?? new Date().toISOString(),
      [FleetHeaders.dlqReason]: reason,
      [FleetHeaders.dlqErrorCode]: errorCode,
      [FleetHeaders.dlqErrorMessage]: errorMessage.slice(0, 4_000),
      [FleetHeaders.dlqAttempts]: String(delivery.attempt),
      [FleetHeaders.dlqConsumerGroup]: this.options.groupId,
      [FleetHeaders.dlqFailedAt]: new Date().toISOString(),
    };
    // The value and key travel byte for byte: the DLQ is for replay, not for reinterpretation.
    const dlqTopic = dlqTopicOf(delivery.originalTopic);
    try {
      await this.options.producer.sendRaw(dlqTopic, [{ key: message.key, value: message.value, headers }]);
    } catch (sendError) {
      // A value near the broker's limit no longer fits with the failure headers on top. Failing here
      // would fail the batch and refetch the same record forever (a partition blocked by one
      // poison); the dead letter goes without its value instead, which stays at its coordinates.
      if (classifyPublishError(sendError) !== 'rejected' || !message.value) throw sendError;
      await this.options.producer.sendRaw(dlqTopic, [
        {
          key: message.key,
          value: null,
          headers: {
            ...headers,
            [FleetHeaders.dlqValueDropped]:
              `${message.value.length} bytes: ${errorMessageOf(sendError)}`.slice(0, 500),
          },
        },
      ]);
    }
    this.metrics.deadLettered.inc({ topic: delivery.originalTopic, group: this.options.groupId, reason });
    this.options.logger.error(
      {
        topic: delivery.originalTopic,
        partition: delivery.originalPartition,
        offset: delivery.originalOffset,
        ...recordIds(message),
        attempt: delivery.attempt,
        reason,
        errorCode,
        errorMessage,
      },
      'message dead-lettered',
    );
  }
}

type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DlqReason; message: string };

function decode<T>(contract: TopicContract<T>, value: Buffer | null): Decoded<T> {
  if (value === null || value.length === 0)
    return { ok: false, reason: 'EMPTY_VALUE', message: 'message has no value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'MALFORMED_JSON', message: `value is not JSON: ${errorMessageOf(error)}` };
  }
  const parsed = contract.schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return {
      ok: false,
      reason: 'SCHEMA_INVALID',
      message: `value does not match ${contract.name}: ${issues}`,
    };
  }
  return { ok: true, value: parsed.data };
}

/** The record's key and `x-event-id`, so a retry or DLQ log line names the event it is about. */
function recordIds(message: KafkaMessage): { key: string | null; eventId: string | undefined } {
  return {
    key: message.key?.toString() ?? null,
    eventId: stringHeaders(message.headers)[FleetHeaders.eventId],
  };
}

function withoutRetryHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !RETRY_HEADERS.has(name)));
}
