import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { Gauge } from 'prom-client';
import { HealthServer, type HealthServerOptions } from './health-server';
import { type Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { ObservabilityError } from './observability.errors';

interface Logged {
  level: string;
  obj: unknown;
  msg?: string;
}

function recordingLogger(logged: Logged[] = []): Logger & { logged: Logged[] } {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void =>
      void logged.push({ level, obj, msg });
  const logger = {
    logged,
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: () => logger,
  };
  return logger;
}

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function startServer(options: Partial<HealthServerOptions> = {}) {
  const logger = recordingLogger();
  const server = new HealthServer({
    port: 0,
    registry: createMetricsRegistry({ serviceName: 'health-test' }),
    logger,
    ...options,
  });
  servers.push(server);
  await server.start();
  const base = `http://127.0.0.1:${server.port}`;
  const get = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, init);
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  return { server, logger, get };
}

const fail = (message: string) => async () => {
  throw new Error(message);
};

describe('HealthServer', () => {
  test('GET /health/live answers ok without running any readiness check', async () => {
    let calls = 0;
    const { get } = await startServer({ readinessChecks: { db: async () => void calls++ } });
    const response = await get('/health/live');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { status: 'ok' });
    assert.equal(calls, 0);
  });

  test('GET /health/ready answers 200 with every check ok when all pass', async () => {
    const { get } = await startServer({ readinessChecks: { db: async () => {}, kafka: async () => {} } });
    const response = await get('/health/ready');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(response.text), { status: 'ok', checks: { db: 'ok', kafka: 'ok' } });
  });

  test('when a check fails, /health/ready answers 503 naming it with its error message', async () => {
    const { get } = await startServer({
      readinessChecks: {
        db: fail('connection refused'),
        kafka: async () => {},
        // Thrown synchronously, not as a rejection: still reported, not a crash.
        redis: () => {
          throw new Error('sync failure');
        },
      },
    });
    const response = await get('/health/ready');
    assert.equal(response.status, 503);
    assert.deepEqual(JSON.parse(response.text), {
      status: 'unavailable',
      checks: { db: 'connection refused', kafka: 'ok', redis: 'sync failure' },
    });
  });

  test('when a check hangs, it fails after checkTimeoutMs while the others still run in parallel', async () => {
    const { get } = await startServer({
      checkTimeoutMs: 100,
      readinessChecks: {
        slow: () => new Promise(() => {}),
        fast: () => new Promise((resolve) => setTimeout(resolve, 50)),
      },
    });
    const startedAt = performance.now();
    const response = await get('/health/ready');
    const elapsedMs = performance.now() - startedAt;
    assert.equal(response.status, 503);
    assert.deepEqual(JSON.parse(response.text).checks, { slow: 'timed out after 100 ms', fast: 'ok' });
    assert.ok(elapsedMs < 1_000, `answered in ${Math.round(elapsedMs)} ms`);
  });

  test('after setReady(false), /health/ready answers 503 without running checks; setReady(true) restores it', async () => {
    let calls = 0;
    const { server, get } = await startServer({ readinessChecks: { db: async () => void calls++ } });
    server.setReady(false);
    const draining = await get('/health/ready');
    assert.equal(draining.status, 503);
    assert.deepEqual(JSON.parse(draining.text), {
      status: 'unavailable',
      reason: 'marked not ready',
      checks: {},
    });
    assert.equal(calls, 0);
    server.setReady(true);
    assert.equal((await get('/health/ready')).status, 200);
  });

  test('readiness changes are logged once per change, not once per probe', async () => {
    let healthy = false;
    const { get, logger } = await startServer({
      readinessChecks: { db: async () => assert.ok(healthy, 'db down') },
    });
    await get('/health/ready');
    await get('/health/ready');
    healthy = true;
    await get('/health/ready');
    const transitions = logger.logged.filter((entry) => entry.msg?.startsWith('service is'));
    assert.deepEqual(transitions, [
      { level: 'warn', obj: { checks: { db: 'db down' } }, msg: 'service is not ready' },
      { level: 'info', obj: { checks: { db: 'ok' } }, msg: 'service is ready' },
    ]);
  });

  test('GET /metrics serves the registry in Prometheus format with default metrics and the service label', async () => {
    const { get } = await startServer();
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(response.text, /^process_cpu_user_seconds_total\{service="health-test"\} \d/m);
    assert.match(response.text, /^nodejs_eventloop_lag_seconds\{service="health-test"\}/m);
  });

  test('when collecting metrics fails, /metrics answers 500 and the error is logged', async () => {
    const registry = createMetricsRegistry({ serviceName: 'broken', collectDefaultMetrics: false });
    new Gauge({
      name: 'broken_gauge',
      help: 'throws on collect',
      registers: [registry],
      collect() {
        throw new Error('collector bug');
      },
    });
    const { get, logger } = await startServer({ registry });
    const response = await get('/metrics');
    assert.equal(response.status, 500);
    const logged = logger.logged.find((entry) => entry.level === 'error');
    assert.equal(logged?.msg, 'health server request failed');
    assert.match(String((logged?.obj as { err: Error }).err), /collector bug/);
  });

  test('unknown paths answer 404 and other methods on known paths answer 405 with Allow: GET', async () => {
    const { get } = await startServer();
    assert.equal((await get('/health')).status, 404);
    assert.equal((await get('/nope?x=1')).status, 404);
    const post = await get('/health/live', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    assert.equal((await get('/health/live?probe=1')).status, 200);
  });

  test('when the port is already in use, start rejects with HEALTH_PORT_IN_USE naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const server = new HealthServer({
        port,
        registry: createMetricsRegistry({ serviceName: 'x', collectDefaultMetrics: false }),
        logger: recordingLogger(),
      });
      await assert.rejects(server.start(), (error: unknown) => {
        assert.ok(error instanceof ObservabilityError);
        assert.equal(error.code, 'HEALTH_PORT_IN_USE');
        assert.equal(error.message, `health server cannot listen on 127.0.0.1:${port}: port already in use`);
        assert.equal((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
        return true;
      });
      assert.equal(server.port, undefined);
    } finally {
      blocker.close();
    }
  });

  test('when the host is not a local address, start rejects with HEALTH_LISTEN_FAILED', async () => {
    const server = new HealthServer({
      host: '192.0.2.1',
      port: 0,
      registry: createMetricsRegistry({ serviceName: 'x', collectDefaultMetrics: false }),
      logger: recordingLogger(),
    });
    await assert.rejects(server.start(), (error: unknown) => {
      assert.ok(error instanceof ObservabilityError);
      assert.equal(error.code, 'HEALTH_LISTEN_FAILED');
      assert.match(error.message, /^health server cannot listen on 192\.0\.2\.1:0: /);
      return true;
    });
  });

  test('stop closes the listener even while a client holds a keep-alive connection', async () => {
    const { server, get } = await startServer();
    const port = server.port;
    await get('/health/live'); // fetch keeps the connection alive
    await server.stop();
    assert.equal(server.port, undefined);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health/live`));
  });
});
