import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { type IncomingMessage } from 'node:http';
import { type Duplex } from 'node:stream';
import { type DataSource } from '@fleet/db';
import { type Logger } from '@fleet/observability';
import { type RedisClient } from '@fleet/redis';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@fleet/service-kit';
import { WebSocket, WebSocketServer } from 'ws';
import { API_METRICS, DATA_SOURCE, JWT_VERIFIER, REDIS_CLIENT } from '../app.tokens';
import { type JwtVerifier } from '../auth/jwt-verifier';
import { conversationOf } from '../chat/chat.repository';
import { uuidParam } from '../chat/chat.schemas';
import { type Config } from '../config';
import { ApiError } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import {
  authenticateUpgrade,
  rejectUpgrade as reject,
  WebSocketUpgrades,
} from '../websocket/websocket-upgrades';
import { conversationChannel } from './conversation-events';

const EVENTS_PATH = /^\/v1\/conversations\/([^/]+)\/events\/?$/;
const PING_INTERVAL_MS = 30_000;

/**
 * `GET /v1/conversations/:id/events` (WebSocket upgrade): pushes the conversation's live events
 * (status changes) to its participants. The token comes in `Authorization: Bearer …` or, for
 * browsers (which cannot set headers on a WebSocket), `?access_token=…`. Every replica subscribes
 * to Redis for the conversations its sockets watch (one SUBSCRIBE per conversation, reference
 * counted), so an event published by whichever replica consumed the status reaches every socket.
 */
@Injectable()
export class EventsGateway implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4_096 });
  private readonly sockets = new Map<string, Set<WebSocket>>();
  /** Sockets pinged and not yet answered: still here at the next ping → dead, terminated. */
  private readonly awaitingPong = new WeakSet<WebSocket>();
  private subscriber: RedisClient | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    @Inject(WebSocketUpgrades) private readonly upgrades: WebSocketUpgrades,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(JWT_VERIFIER) private readonly verifier: JwtVerifier,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {}

  onModuleInit(): void {
    this.upgrades.route(EVENTS_PATH, (request, socket, head, url, match) =>
      this.upgrade(request, socket, head, url, match),
    );
  }

  onApplicationBootstrap(): void {
    // A subscribed connection can run no other command: a connection of its own.
    const subscriber = this.redis.duplicate({ connectionName: `${this.config.SERVICE_NAME}-events` });
    subscriber.on('error', (error: Error) => this.logger.warn({ err: error }, 'redis subscriber error'));
    subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.subscriber = subscriber;
    this.pinger = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.pinger.unref();
  }

  /** Before the listener closes: sockets get 1001 "going away", so clients reconnect elsewhere. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    for (const set of this.sockets.values()) {
      for (const socket of set) socket.close(1001, 'server shutting down');
    }
    this.sockets.clear();
    this.subscriber?.disconnect();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    match: RegExpExecArray,
  ): Promise<void> {
    if (this.closing) return reject(socket, new ApiError(503, 'SERVICE_UNAVAILABLE', 'shutting down'));
    const id = uuidParam.safeParse(decodeURIComponent(match[1]!));
    if (!id.success) return reject(socket, new ApiError(400, 'INVALID_ID', 'conversation id must be a UUID'));
    const conversationId = id.data;

    let userId: string;
    try {
      userId = await authenticateUpgrade(this.verifier, request, url);
      await conversationOf(this.dataSource.manager, conversationId, userId);
    } catch (error) {
      if (error instanceof ApiError) return reject(socket, error);
      throw error;
    }
    if (this.connectionCount() >= this.config.WS_MAX_CONNECTIONS) {
      return reject(
        socket,
        new ApiError(503, 'SERVICE_UNAVAILABLE', 'too many WebSocket connections on this replica'),
      );
    }

    const channel = conversationChannel(conversationId);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      void this.join(channel, ws, conversationId, userId);
    });
  }

  private async join(channel: string, ws: WebSocket, conversationId: string, userId: string): Promise<void> {
    let set = this.sockets.get(channel);
    if (!set) {
      set = new Set();
      this.sockets.set(channel, set);
    }
    set.add(ws);
    this.metrics.wsConnections.inc();
    ws.on('close', () => this.leave(channel, ws));
    ws.on('pong', () => this.awaitingPong.delete(ws));
    ws.on('error', (error) => this.logger.debug({ err: error }, 'websocket error'));
    try {
      // Resolves once Redis confirmed: from here on, no event of the conversation is missed.
      await this.subscriber!.subscribe(channel);
      ws.send(JSON.stringify({ type: 'subscribed', conversationId }));
      this.logger.debug({ conversationId, userId }, 'websocket subscribed');
    } catch (error) {
      this.logger.warn({ err: error, conversationId }, 'redis subscribe failed; closing the socket');
      ws.close(1011, 'cannot subscribe to events');
    }
  }

  private leave(channel: string, ws: WebSocket): void {
    const set = this.sockets.get(channel);
    if (!set?.delete(ws)) return;
    this.metrics.wsConnections.dec();
    if (set.size === 0) {
      this.sockets.delete(channel);
      if (!this.closing) {
        this.subscriber?.unsubscribe(channel).catch((error: unknown) => {
          this.logger.debug({ err: error, channel }, 'redis unsubscribe failed');
        });
      }
    }
  }

  private deliver(channel: string, message: string): void {
    for (const ws of this.sockets.get(channel) ?? []) {
      if (ws.readyState === WebSocket.OPEN) ws.send(message);
    }
  }

  private ping(): void {
    for (const set of this.sockets.values()) {
      for (const ws of set) {
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

  private connectionCount(): number {
    let count = 0;
    for (const set of this.sockets.values()) count += set.size;
    return count;
  }
}
