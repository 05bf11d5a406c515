import { Client } from 'pg';
import { messageOf } from './db.errors';
import { type DbLogger } from './logger';

/** Options of {@link listenForNotifications}. */
export interface NotificationListenerOptions {
  /** `postgres://…` of the server the notifications come from. */
  url: string;
  /** The `LISTEN` channel, an identifier: lowercase letters, digits and underscores. */
  channel: string;
  /** Called with each notification's payload (may be empty). Must not throw. */
  onNotify: (payload: string) => void;
  /** Called after every (re)connection: notifications sent while disconnected are lost, so catch up. */
  onConnected?: () => void;
  logger: DbLogger;
  /** Shown in `pg_stat_activity`. @defaultValue unset */
  applicationName?: string;
  /** Delay before a reconnection attempt, doubled per failure up to 30 s. @defaultValue 500 */
  reconnectDelayMs?: number;
}

/** A running listener; {@link NotificationListener.close} stops it for good. */
export interface NotificationListener {
  /** True while a `LISTEN` connection is open. */
  readonly connected: boolean;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A dedicated connection that `LISTEN`s on one channel and reconnects (with backoff) when the
 * server goes away. Notifications are a wake-up, never the source of truth: they are dropped while
 * disconnected, which `onConnected` lets the caller make up for by polling once.
 */
export function listenForNotifications(options: NotificationListenerOptions): NotificationListener {
  const { url, channel, onNotify, onConnected, logger } = options;
  if (!CHANNEL.test(channel)) throw new Error(`invalid LISTEN channel name "${channel}"`);
  const baseDelay = options.reconnectDelayMs ?? 500;
  let client: Client | undefined;
  let connected = false;
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const scheduleReconnect = () => {
    if (closed || timer) return;
    const delay = Math.min(baseDelay * 2 ** Math.min(failures, 10), 30_000);
    failures++;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
  };

  const connect = async () => {
    if (closed) return;
    const c = new Client({ connectionString: url, application_name: options.applicationName });
    client = c;
    c.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    c.on('error', (error) => {
      // Emitted when the server goes away; the 'end' handler below reconnects.
      logger.warn({ err: error, channel }, `notification connection error: ${messageOf(error)}`);
    });
    c.on('end', () => {
      if (connected) logger.warn({ channel }, 'notification connection closed; reconnecting');
      connected = false;
      if (client === c) scheduleReconnect();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      connected = true;
      failures = 0;
      logger.info({ channel }, 'listening for notifications');
      onConnected?.();
    } catch (error) {
      logger.warn({ err: error, channel }, `cannot listen for notifications: ${messageOf(error)}`);
      connected = false;
      await c.end().catch(() => undefined);
      scheduleReconnect();
    }
  };

  void connect();
  return {
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      connected = false;
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
