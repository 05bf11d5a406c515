import { type JobEvent } from '@fleet/contracts';
import { type RedisClient, type RedisLogger } from '@fleet/redis';
import { parseJobEvent, type JobEvents } from './job-events';
import { JobError } from './jobs.errors';

/** What a subscription does with what it receives. */
export interface JobEventHandlers {
  /**
   * Each event once, in seq order per job. Awaited: the next event of the subscription waits, so a
   * slow consumer (a WebSocket with backpressure) slows only its own subscription.
   */
  onEvent(event: JobEvent): void | Promise<void>;
  /**
   * Events `fromSeq`–`toSeq` of a job cannot be delivered: trimmed from its log (`streamMaxLen`),
   * expired with it, or never emitted (a worker died between its write and its emit). A client
   * should read the job's current state instead of waiting for them.
   */
  onGap?(jobId: string, fromSeq: number, toSeq: number): void;
}

export interface JobSubscription {
  /** Stops delivery; unsubscribes the channel when no other subscription uses it. */
  close(): Promise<void>;
}

export interface JobEventSubscriberOptions {
  /** Receives what cannot reach a handler: an unreadable message, a failed replay, a handler's throw. */
  logger: RedisLogger;
}

/** One consumer's view: what it has been given per job, and its queue of work, run one at a time. */
class Subscription {
  private chain: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    private readonly events: JobEvents,
    private readonly handlers: JobEventHandlers,
    /** Highest seq delivered (or given by the client as already seen), per job. */
    private readonly delivered: Map<string, number>,
    private readonly logger: RedisLogger,
  ) {}

  /** Runs `task` after everything queued before it; resolves when it has run. */
  enqueue(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (error) {
        // Replay failed (Redis away): what was missed is fetched again at the next event or reconnect.
        this.logger.warn(
          { err: error },
          'job event subscription: catch-up failed; retrying at the next event',
        );
      }
    });
    return this.chain;
  }

  /** A live message. */
  push(event: JobEvent): void {
    void this.enqueue(() => this.handle(event));
  }

  /** Fetches what every known job's log holds beyond what was delivered. */
  catchUpAll(): Promise<void> {
    return Promise.all(
      [...this.delivered.keys()].map((jobId) => this.enqueue(() => this.catchUp(jobId))),
    ).then(() => undefined);
  }

  private async handle(event: JobEvent): Promise<void> {
    const last = this.delivered.get(event.jobId);
    // A user's job this subscription has not seen yet: start from here, no history.
    if (last === undefined) return this.deliver(event);
    if (event.seq <= last) return; // already delivered (replayed, or both channels of one job)
    // A live message skipped ahead: the ones in between are in the log (published before it, lost
    // while the subscriber connection was down, or not yet received when a replay raced it).
    if (event.seq > last + 1) await this.catchUp(event.jobId);
    const now = this.delivered.get(event.jobId) ?? 0;
    if (event.seq <= now) return;
    if (event.seq > now + 1) this.handlers.onGap?.(event.jobId, now + 1, event.seq - 1);
    await this.deliver(event);
  }

  private async catchUp(jobId: string): Promise<void> {
    const from = this.delivered.get(jobId) ?? 0;
    for (const event of await this.events.replay(jobId, from)) {
      const last = this.delivered.get(jobId) ?? 0;
      if (event.seq <= last) continue;
      if (event.seq > last + 1) this.handlers.onGap?.(jobId, last + 1, event.seq - 1);
      await this.deliver(event);
    }
  }

  private async deliver(event: JobEvent): Promise<void> {
    this.delivered.set(event.jobId, event.seq);
    try {
      await this.handlers.onEvent(event);
    } catch (error) {
      // The consumer's bug must not stall the other events; it is logged, not retried.
      this.logger.error({ err: error, jobId: event.jobId, seq: event.seq }, 'job event handler threw');
    }
  }
}

interface ChannelEntry {
  subscriptions: Set<Subscription>;
  /** Settles when Redis confirmed the SUBSCRIBE. */
  subscribed: Promise<unknown>;
}

/**
 * Delivers job events to the api's WebSocket clients, per job or per user, without gaps or
 * duplicates across reconnects. One instance per process, on a Redis connection of its own (a
 * connection in subscriber mode runs no other command); channels are shared between subscriptions
 * and unsubscribed when the last one closes.
 *
 * The reconnect race: a client comes back with the last seq it saw. The subscription SUBSCRIBEs
 * first and waits for Redis to confirm, then replays the job's log after that seq, and only then
 * streams live messages, dropping any seq it already delivered. Because an event is stored and
 * published by one atomic script, every event is in the replay, or arrives live after it, or both —
 * never neither. A live seq that skips ahead triggers a replay of the hole first, and when the
 * subscriber connection itself reconnects (messages published meanwhile are lost by pub/sub) every
 * subscription replays what it missed, so order and completeness hold through Redis blips too.
 */
export class JobEventSubscriber {
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly logger: RedisLogger;
  private everReady: boolean;
  private closed = false;

  constructor(
    private readonly events: JobEvents,
    private readonly subscriber: RedisClient,
    options: JobEventSubscriberOptions,
  ) {
    this.logger = options.logger;
    this.everReady = subscriber.status === 'ready';
    subscriber.on('message', this.onMessage);
    subscriber.on('ready', this.onReady);
  }

  /**
   * Events of one job after `afterSeq` (0: from the oldest still stored), then live ones. Resolves
   * once the stored ones were handed to `onEvent`.
   */
  async subscribeJob(jobId: string, afterSeq: number, handlers: JobEventHandlers): Promise<JobSubscription> {
    return this.subscribe(this.events.jobChannel(jobId), new Map([[jobId, afterSeq]]), handlers);
  }

  /**
   * Events of every job of `ownerId`. For the jobs in `afterSeqs` (job id → last seq the client
   * saw) the stored events after that seq are replayed first; other jobs are delivered from the
   * first event that arrives live.
   */
  async subscribeUser(
    ownerId: string,
    afterSeqs: Readonly<Record<string, number>>,
    handlers: JobEventHandlers,
  ): Promise<JobSubscription> {
    return this.subscribe(this.events.userChannel(ownerId), new Map(Object.entries(afterSeqs)), handlers);
  }

  /** Closes every subscription (the Redis connection stays the caller's to close). */
  async close(): Promise<void> {
    this.closed = true;
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    const channels = [...this.channels.keys()];
    for (const entry of this.channels.values()) for (const sub of entry.subscriptions) sub.closed = true;
    this.channels.clear();
    if (channels.length > 0 && this.subscriber.status === 'ready')
      await this.subscriber.unsubscribe(...channels);
  }

  private async subscribe(
    channel: string,
    delivered: Map<string, number>,
    handlers: JobEventHandlers,
  ): Promise<JobSubscription> {
    if (this.closed) throw new JobError('JOB_INVALID', 'this JobEventSubscriber is closed');
    for (const [jobId, seq] of delivered) {
      if (!Number.isInteger(seq) || seq < 0) {
        throw new JobError('JOB_INVALID', `last seq of job ${jobId} must be an integer ≥ 0, got ${seq}`);
      }
    }
    const sub = new Subscription(this.events, handlers, delivered, this.logger);
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { subscriptions: new Set(), subscribed: this.subscriber.subscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.subscriptions.add(sub);
    try {
      await entry.subscribed;
    } catch (error) {
      await this.detach(channel, sub);
      throw error;
    }
    // Subscribed: from here on every event is either in the log or still to arrive live.
    await sub.catchUpAll();
    return { close: () => this.detach(channel, sub) };
  }

  private async detach(channel: string, sub: Subscription): Promise<void> {
    sub.closed = true;
    const entry = this.channels.get(channel);
    if (!entry?.subscriptions.delete(sub) || entry.subscriptions.size > 0) return;
    this.channels.delete(channel);
    if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe(channel);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const entry = this.channels.get(channel);
    if (!entry) return;
    let event: JobEvent;
    try {
      event = parseJobEvent(message);
    } catch (error) {
      this.logger.warn({ err: error, channel }, 'job event subscription: unreadable message dropped');
      return;
    }
    for (const sub of entry.subscriptions) sub.push(event);
  };

  /**
   * After a reconnect ioredis re-subscribes by itself, but messages published while the
   * connection was down are gone: subscribe again (its confirmation comes after the automatic
   * ones), then every subscription replays what it missed.
   */
  private readonly onReady = (): void => {
    if (!this.everReady) {
      this.everReady = true;
      return;
    }
    const channels = [...this.channels.keys()];
    if (channels.length === 0) return;
    this.subscriber
      .subscribe(...channels)
      .then(async () => {
        const subs = new Set([...this.channels.values()].flatMap((entry) => [...entry.subscriptions]));
        await Promise.all([...subs].map((sub) => sub.catchUpAll()));
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'job event subscription: resubscribe after reconnect failed'),
      );
  };
}
