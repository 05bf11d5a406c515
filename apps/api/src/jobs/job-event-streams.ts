import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type JobEvent } from '@fleet/contracts';
import { JobEvents, JobEventSubscriber, type Job, type JobSubscription } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { API_METRICS, REDIS_CLIENT } from '../app.tokens';
import { type Config } from '../config';
import { ApiError } from '../http/api.errors';
import { type ApiMetrics, type JobEventScope, type JobEventTransport } from '../http/api.metrics';

/** What a job event stream carries: the events themselves, and two notices. */
export type JobStreamFrame =
  | JobEvent
  /** The stored events after the client's last seq were sent; live ones follow. */
  | { type: 'subscribed'; jobId?: string }
  /** Events `fromSeq`–`toSeq` of the job are no longer stored: read the job instead of waiting. */
  | { type: 'gap'; jobId: string; fromSeq: number; toSeq: number };

/** Why a stream ends. */
export type StreamEnd = 'finished' | 'shutdown' | 'too_slow';

/** One client connection (a WebSocket or an SSE response), as the streams see it. */
export interface JobEventSink {
  readonly transport: JobEventTransport;
  /** Sends a frame; resolves once handed to the connection. Rejects when the client is too slow. */
  send(frame: JobStreamFrame): Promise<void>;
  /** Ends the connection: the job finished, the api shuts down, or the client could not keep up. */
  end(reason: StreamEnd): void;
}

export interface OpenJobStream {
  /** Stops delivery (the client went away). Idempotent. */
  close(): Promise<void>;
}

const FINAL_TYPES: ReadonlySet<string> = new Set(['job_completed', 'job_failed']);
const FINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * A job that was already finished when the client connected but whose final event the client has
 * not seen: the event is either on its way (the worker emits right after its write) or no longer
 * stored. Waited for this long, then reported as a gap.
 */
export const FINAL_EVENT_GRACE_MS = 3_000;

/**
 * The api's side of job progress: `JobEvents` (the cancel use case emits through it) and one
 * `JobEventSubscriber` per process on a Redis connection of its own, shared by every WebSocket and
 * SSE client. Subscribe-then-replay lives in the subscriber: a client that comes back with its
 * last seq gets exactly what it missed, then live events, each once and in order.
 */
@Injectable()
export class JobEventStreams implements OnModuleInit, BeforeApplicationShutdown {
  readonly events: JobEvents;
  private subscriberClient: RedisClient | undefined;
  private subscriber: JobEventSubscriber | undefined;
  private readonly open = new Set<{ sink: JobEventSink; close(): Promise<void> }>();
  private closing = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {
    this.events = new JobEvents(redis, {
      keyPrefix: config.JOB_EVENTS_KEY_PREFIX,
      streamMaxLen: config.JOB_EVENTS_STREAM_MAX_LEN,
      streamTtlMs: config.JOB_EVENTS_TTL_MS,
      finishedStreamTtlMs: config.JOB_EVENTS_FINISHED_TTL_MS,
    });
  }

  onModuleInit(): void {
    // A connection in subscriber mode runs no other command: one of its own (replays use `redis`).
    const client = this.redis.duplicate({ connectionName: `${this.config.SERVICE_NAME}-job-events` });
    client.on('error', (error: Error) =>
      this.logger.warn({ err: error }, 'redis job event subscriber error'),
    );
    this.subscriberClient = client;
    this.subscriber = new JobEventSubscriber(this.events, client, { logger: this.logger });
  }

  /** Streams open on this replica over `transport`. */
  count(transport: JobEventTransport): number {
    let n = 0;
    for (const stream of this.open) if (stream.sink.transport === transport) n++;
    return n;
  }

  /**
   * One job's events after `lastSeq` (stored ones first), then `subscribed`, then live ones; the
   * stream ends after the job's final event (`job_completed`, `job_failed`).
   */
  async openJob(job: Job, lastSeq: number, sink: JobEventSink): Promise<OpenJobStream> {
    const stream = this.track(sink, 'job');
    let ready = false;
    let finalSeen = false;
    let delivered = lastSeq;
    let grace: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(grace);
      void stream.close().then(() => sink.end('finished'));
    };
    try {
      stream.subscription = await this.subscriber!.subscribeJob(job.id, lastSeq, {
        onEvent: async (event) => {
          delivered = Math.max(delivered, event.seq);
          await this.relay(sink, stream, event);
          if (!FINAL_TYPES.has(event.type)) return;
          finalSeen = true;
          if (ready) finish();
        },
        onGap: (jobId, fromSeq, toSeq) =>
          void this.relay(sink, stream, { type: 'gap', jobId, fromSeq, toSeq }),
      });
    } catch (error) {
      await stream.close();
      throw error;
    }
    if (stream.closed) return stream;
    await this.relay(sink, stream, { type: 'subscribed', jobId: job.id });
    ready = true;
    if (finalSeen || (FINAL_STATUSES.has(job.status) && delivered >= job.lastEventSeq)) {
      finish();
    } else if (FINAL_STATUSES.has(job.status)) {
      grace = setTimeout(() => {
        if (stream.closed || finalSeen) return;
        void this.relay(sink, stream, {
          type: 'gap',
          jobId: job.id,
          fromSeq: delivered + 1,
          toSeq: job.lastEventSeq,
        }).then(finish);
      }, FINAL_EVENT_GRACE_MS);
      grace.unref();
    }
    return stream;
  }

  /**
   * Every job of `userId`: for the jobs in `afterSeqs` the stored events after the given seq first,
   * then `subscribed`, then live events of all the user's jobs (jobs not named from their first live
   * event). Never ends by itself.
   */
  async openUser(
    userId: string,
    afterSeqs: Readonly<Record<string, number>>,
    sink: JobEventSink,
  ): Promise<OpenJobStream> {
    const stream = this.track(sink, 'user');
    try {
      stream.subscription = await this.subscriber!.subscribeUser(userId, afterSeqs, {
        onEvent: (event) => this.relay(sink, stream, event),
        onGap: (jobId, fromSeq, toSeq) =>
          void this.relay(sink, stream, { type: 'gap', jobId, fromSeq, toSeq }),
      });
    } catch (error) {
      await stream.close();
      throw error;
    }
    if (!stream.closed) await this.relay(sink, stream, { type: 'subscribed' });
    return stream;
  }

  /** Before the listener closes: every stream ends (WebSockets with 1001), then the subscriber. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const streams = [...this.open];
    for (const stream of streams) stream.sink.end('shutdown');
    await Promise.all(streams.map((stream) => stream.close()));
    await this.subscriber?.close().catch(() => undefined);
    this.subscriberClient?.disconnect();
  }

  private track(sink: JobEventSink, scope: JobEventScope) {
    if (this.closing) throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'shutting down');
    const labels = { transport: sink.transport, scope };
    const stream = {
      sink,
      closed: false,
      subscription: undefined as JobSubscription | undefined,
      close: async () => {
        if (stream.closed) return;
        stream.closed = true;
        this.open.delete(stream);
        this.metrics.jobEventStreams.dec(labels);
        await stream.subscription?.close().catch((error: unknown) => {
          this.logger.debug({ err: error }, 'job event subscription close failed');
        });
      },
    };
    this.open.add(stream);
    this.metrics.jobEventStreams.inc(labels);
    return stream;
  }

  private async relay(
    sink: JobEventSink,
    stream: { closed: boolean; close(): Promise<void> },
    frame: JobStreamFrame,
  ): Promise<void> {
    if (stream.closed) return;
    try {
      await sink.send(frame);
      if (frame.type !== 'subscribed') this.metrics.jobEventsRelayed.inc({ transport: sink.transport });
    } catch (error) {
      // A client that cannot keep up is dropped; it reconnects with its last seq and loses nothing.
      this.logger.info({ err: error }, 'job event client too slow or gone; stream closed');
      await stream.close();
      sink.end('too_slow');
    }
  }
}
