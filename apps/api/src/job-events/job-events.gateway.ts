import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type IncomingMessage } from 'node:http';
import { type Duplex } from 'node:stream';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { type Logger } from '@fleet/observability';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { WebSocket, WebSocketServer } from 'ws';
import { DATA_SOURCE, JWT_VERIFIER } from '../app.tokens';
import { type JwtVerifier } from '../auth/jwt-verifier';
import { uuidParam } from '../chat/chat.schemas';
import { type Config } from '../config';
import { ApiError } from '../http/api.errors';
import { ownJob } from '../jobs/jobs.repository';
import {
  JobEventStreams,
  type JobEventSink,
  type OpenJobStream,
  type StreamEnd,
} from '../jobs/job-event-streams';
import { authenticateUpgrade, rejectUpgrade, WebSocketUpgrades } from '../websocket/websocket-upgrades';
import { parseLastSeq, parseSince } from './job-event-params';

const USER_EVENTS_PATH = /^\/v1\/jobs\/events\/?$/;
const JOB_EVENTS_PATH = /^\/v1\/jobs\/([^/]+)\/events\/?$/;
const PING_INTERVAL_MS = 30_000;
/** A client this far behind (bytes queued on its socket) is dropped; it reconnects with its last seq. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const CLOSE: Readonly<Record<StreamEnd, [number, string]>> = {
  finished: [1000, 'job finished'],
  shutdown: [1001, 'server shutting down'],
  too_slow: [1013, 'too far behind: reconnect with your last seq'],
};

/**
 * Job progress over WebSocket: `GET /v1/jobs/:id/events?lastSeq=N` (one job of the caller) and
 * `GET /v1/jobs/events?since=<jobId>:<seq>,…` (every job of the caller). Auth as the conversation
 * socket: `Authorization: Bearer …` or `?access_token=…`. Frames are JSON text: the events
 * (`jobEventSchema`), `{type:'gap'}` and `{type:'subscribed'}` (see {@link JobEventStreams}).
 */
@Injectable()
export class JobEventsGateway implements OnModuleInit, BeforeApplicationShutdown {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1_024 });
  private readonly sockets = new Set<WebSocket>();
  private readonly awaitingPong = new WeakSet<WebSocket>();
  private pinger: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    @Inject(WebSocketUpgrades) private readonly upgrades: WebSocketUpgrades,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(JWT_VERIFIER) private readonly verifier: JwtVerifier,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(JobEventStreams) private readonly streams: JobEventStreams,
  ) {}

  onModuleInit(): void {
    this.upgrades.route(USER_EVENTS_PATH, (request, socket, head, url) =>
      this.guarded(socket, () => this.upgradeUser(request, socket, head, url)),
    );
    this.upgrades.route(JOB_EVENTS_PATH, (request, socket, head, url, match) =>
      this.guarded(socket, () => this.upgradeJob(request, socket, head, url, match)),
    );
    this.pinger = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.pinger.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    // JobEventStreams ends every stream (1001); sockets not streaming yet go too.
    for (const ws of this.sockets) ws.close(...CLOSE.shutdown);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** Refusals (ApiError) become HTTP answers on the socket; anything else is the router's 500. */
  private async guarded(socket: Duplex, upgrade: () => Promise<void>): Promise<void> {
    try {
      await upgrade();
    } catch (error) {
      if (error instanceof ApiError) return rejectUpgrade(socket, error);
      throw error;
    }
  }

  private async upgradeJob(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    match: RegExpExecArray,
  ): Promise<void> {
    this.checkOpen();
    const id = uuidParam.safeParse(decodeURIComponent(match[1]!));
    if (!id.success) throw new ApiError(400, 'INVALID_ID', 'job id must be a UUID');
    const lastSeq = parseLastSeq(url.searchParams.get('lastSeq'));
    const userId = await authenticateUpgrade(this.verifier, request, url);
    const job = await ownJob(this.jobs, sqlOf(this.dataSource.manager), id.data, userId);
    this.checkCapacity();
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      void this.attach(ws, (sink) => this.streams.openJob(job, lastSeq, sink), { jobId: job.id, userId });
    });
  }

  private async upgradeUser(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    this.checkOpen();
    const since = parseSince(url.searchParams.get('since'));
    const userId = await authenticateUpgrade(this.verifier, request, url);
    // Replaying a job's log is only for its owner: every job named must be the caller's.
    const sql = sqlOf(this.dataSource.manager);
    for (const jobId of Object.keys(since)) await ownJob(this.jobs, sql, jobId, userId);
    this.checkCapacity();
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      void this.attach(ws, (sink) => this.streams.openUser(userId, since, sink), { userId });
    });
  }

  private checkOpen(): void {
    if (this.closing) throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'shutting down');
  }

  private checkCapacity(): void {
    if (this.streams.count('websocket') >= this.config.WS_MAX_CONNECTIONS) {
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'too many job event WebSockets on this replica');
    }
  }

  private async attach(
    ws: WebSocket,
    open: (sink: JobEventSink) => Promise<OpenJobStream>,
    context: { jobId?: string; userId: string },
  ): Promise<void> {
    this.sockets.add(ws);
    let stream: OpenJobStream | undefined;
    let gone = false;
    ws.on('close', () => {
      gone = true;
      this.sockets.delete(ws);
      void stream?.close();
    });
    ws.on('pong', () => this.awaitingPong.delete(ws));
    ws.on('error', (error) => this.logger.debug({ err: error }, 'job events websocket error'));
    const sink: JobEventSink = {
      transport: 'websocket',
      send: (frame) =>
        new Promise<void>((resolve, reject) => {
          if (ws.readyState !== WebSocket.OPEN) return reject(new Error('socket closed'));
          if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return reject(new Error('client too slow'));
          ws.send(JSON.stringify(frame), (error) => (error ? reject(error) : resolve()));
        }),
      end: (reason) => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
          ws.close(...CLOSE[reason]);
      },
    };
    try {
      stream = await open(sink);
      if (gone) await stream.close();
      this.logger.debug(context, 'job events websocket subscribed');
    } catch (error) {
      this.logger.warn({ err: error, ...context }, 'job event subscription failed; closing the socket');
      if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'cannot subscribe to job events');
    }
  }

  private ping(): void {
    for (const ws of this.sockets) {
      if (this.awaitingPong.has(ws)) {
        ws.terminate();
        continue;
      }
      if (ws.readyState !== WebSocket.OPEN) continue;
      this.awaitingPong.add(ws);
      ws.ping();
    }
  }
}
