import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Registry } from 'prom-client';
import { type Logger } from './logger';
import { ObservabilityError } from './observability.errors';

/** A dependency check for `/health/ready`: resolves when the dependency is usable, rejects otherwise. */
export type ReadinessCheck = () => Promise<void>;

/** Options of {@link HealthServer}. */
export interface HealthServerOptions {
  /**
   * Interface to bind; `0.0.0.0` in containers so the kubelet and Prometheus can reach it.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /** Port to bind; `0` picks a free one (read it back from {@link HealthServer.port}). */
  port: number;
  /** Registry served on `/metrics`. */
  registry: Registry;
  logger: Logger;
  /**
   * Checks run by `/health/ready`, by name; the name is what the response reports.
   * @defaultValue none: ready while not marked otherwise
   */
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /**
   * Per-check time limit; a slower check counts as failed, so a hung dependency cannot hang the probe.
   * @defaultValue 2000
   */
  checkTimeoutMs?: number;
  /**
   * The app's own status document, served on `GET /health` (e.g. seed 001's worker: last run,
   * last error, mode, uptime). No dependency checks; a throw answers 500. @defaultValue none (404)
   */
  status?: () => Promise<Record<string, unknown>>;
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

/**
 * A bare `node:http` listener for probes and scrapes, independent of the app's framework so it
 * answers even while the app is still booting or already draining.
 *
 * - `GET /health/live` → 200 `{status:'ok'}`; no dependency checks, so a flaky database never
 *   gets pods restarted.
 * - `GET /health/ready` → runs every check in parallel → 200 `{status:'ok', checks}` or 503
 *   `{status:'unavailable', checks}` with each failing check's error message.
 * - `GET /metrics` → the registry in Prometheus text format.
 * - `GET /health` → the app's status document, when it gives one (`status`).
 * - other paths 404, other methods 405.
 */
export class HealthServer {
  private readonly server: Server;
  private readonly host: string;
  private ready = true;
  private lastReadiness: boolean | undefined;

  constructor(private readonly options: HealthServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** The bound port once started, else `undefined`. */
  get port(): number | undefined {
    const address = this.server.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /**
   * Resolves once listening.
   * @throws {@link ObservabilityError} `HEALTH_PORT_IN_USE` or `HEALTH_LISTEN_FAILED`, naming host and port.
   */
  start(): Promise<void> {
    const { port, logger } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const inUse = error.code === 'EADDRINUSE';
        reject(
          new ObservabilityError(
            inUse ? 'HEALTH_PORT_IN_USE' : 'HEALTH_LISTEN_FAILED',
            `health server cannot listen on ${this.host}:${port}: ${inUse ? 'port already in use' : error.message}`,
            { cause: error },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        logger.info({ host: this.host, port: this.port }, 'health server listening');
        resolve();
      });
    });
  }

  /**
   * Marks the service ready or not. Call `setReady(false)` first thing on shutdown: readiness turns
   * 503 without running checks, the load balancer stops routing, then the app drains.
   */
  setReady(ready: boolean): void {
    this.ready = ready;
  }

  /**
   * Stops listening; resolves once open connections are closed. Idle keep-alive connections (as
   * Prometheus holds between scrapes) are closed at once by `server.close` since Node 19.
   */
  stop(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://health.invalid').pathname;
    const { status } = this.options;
    const route =
      path === '/health' && status
        ? async () => json(200, { status: 'ok', ...(await status()) })
        : this.routes.get(path);
    let reply: Reply;
    if (!route) reply = json(404, { error: 'not found' });
    else if (request.method !== 'GET') reply = json(405, { error: 'method not allowed' });
    else {
      try {
        reply = await route();
      } catch (error) {
        this.options.logger.error({ err: error, path }, 'health server request failed');
        reply = json(500, { error: 'internal error' });
      }
    }
    response.writeHead(reply.status, {
      'content-type': reply.contentType,
      ...(reply.status === 405 ? { allow: 'GET' } : {}),
    });
    response.end(reply.body);
  }

  private readonly routes = new Map<string, () => Promise<Reply>>([
    ['/health/live', async () => json(200, { status: 'ok' })],
    ['/health/ready', () => this.readiness()],
    [
      '/metrics',
      async () => {
        const { registry } = this.options;
        return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
      },
    ],
  ]);

  private async readiness(): Promise<Reply> {
    if (!this.ready) return json(503, { status: 'unavailable', reason: 'marked not ready', checks: {} });

    const { readinessChecks = {}, checkTimeoutMs = 2000 } = this.options;
    const results = await Promise.all(
      Object.entries(readinessChecks).map(async ([name, check]) => [
        name,
        await runCheck(check, checkTimeoutMs),
      ]),
    );
    const checks: Record<string, string> = Object.fromEntries(results);
    const ok = results.every(([, result]) => result === 'ok');
    this.logTransition(ok, checks);
    return json(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
  }

  // Probes run every few seconds: log when readiness changes, not on every probe.
  private logTransition(ok: boolean, checks: Record<string, string>): void {
    if (ok === this.lastReadiness) return;
    this.lastReadiness = ok;
    if (ok) this.options.logger.info({ checks }, 'service is ready');
    else this.options.logger.warn({ checks }, 'service is not ready');
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // `.then(check)` turns a check that throws synchronously into a rejection like any other.
    await Promise.race([Promise.resolve().then(check), timeout]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

function json(status: number, body: Record<string, unknown>): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}
