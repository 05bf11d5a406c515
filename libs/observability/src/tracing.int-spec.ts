import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { build } from 'esbuild';
import { type JaegerSpan, type JaegerTrace } from './testing';
import { startTracing } from './tracing';

const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
const ROOT = resolve(__dirname, '../../..');

/** Polls Jaeger's query API until `found` picks something out of the answer (export is asynchronous). */
async function pollJaeger<T>(path: string, found: (traces: JaegerTrace[]) => T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${JAEGER}${path}`);
    if (response.ok) {
      const result = found(((await response.json()) as { data: JaegerTrace[] | null }).data ?? []);
      if (result !== undefined) return result;
    }
    if (Date.now() > deadline) assert.fail(`nothing matching in Jaeger at ${path} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describe('tracing against a real Jaeger', () => {
  test('a span created after startTracing reaches Jaeger under the service name after shutdown', async () => {
    const serviceName = `obs-int-${randomUUID().slice(0, 8)}`;
    const spanName = `span-${randomUUID()}`;
    const tracing = startTracing({
      serviceName,
      otlpEndpoint: OTLP,
      resourceAttributes: { 'service.version': '1.2.3' },
    });
    let traceId = '';
    trace.getTracer('int-test').startActiveSpan(spanName, (span) => {
      traceId = span.spanContext().traceId;
      span.end();
    });
    await tracing.shutdown();

    const found = await pollJaeger(`/api/traces?service=${serviceName}&limit=20`, (traces) => {
      for (const t of traces) {
        const span = t.spans.find((s) => s.operationName === spanName);
        if (span) return { trace: t, span };
      }
      return undefined;
    });
    assert.equal(found.span.traceID, traceId);
    const process_ = found.trace.processes[found.span.processID];
    assert.equal(process_.serviceName, serviceName);
    assert.ok(
      process_.tags.some((t) => t.key === 'service.version' && t.value === '1.2.3'),
      'resource attributes are exported',
    );
  });

  describe('in an app bundled by esbuild with node_modules external', () => {
    let dir = '';
    after(() => rm(dir, { recursive: true, force: true }));

    test('http and pg calls made after tracing starts are traced, and log lines carry the trace id', async () => {
      dir = await mkdtemp(join(tmpdir(), 'obs-bundle-'));
      // The app shape the README prescribes: main.ts imports tracing.ts before anything else.
      await writeFile(
        join(dir, 'tracing.ts'),
        `import { startTracing } from '@fleet/observability';
export const tracing = startTracing({
  serviceName: process.env.SERVICE_NAME!,
  otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
`,
      );
      await writeFile(
        join(dir, 'main.ts'),
        `import { tracing } from './tracing';
import { createServer, request } from 'node:http';
import { type AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createLogger } from '@fleet/observability';
import { Client } from 'pg';

const get = (url: string) =>
  new Promise<void>((resolve, reject) =>
    request(url, (res) => res.resume().on('end', resolve)).on('error', reject).end(),
  );

async function main(): Promise<void> {
  const logger = createLogger({ serviceName: process.env.SERVICE_NAME! });
  const server = createServer((_req, res) => res.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await trace.getTracer('fixture').startActiveSpan('fixture-root', async (span) => {
    await get(\`http://127.0.0.1:\${port}/ping\`);
    await get(\`http://127.0.0.1:\${port}/health/live\`);
    await db.query('SELECT 1 AS one');
    logger.info('inside root span');
    span.end();
  });
  await db.end();
  server.close();
  await tracing.shutdown();
}
main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
`,
      );
      const outfile = join(dir, 'dist', 'main.js');
      await build({
        entryPoints: [join(dir, 'main.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node24',
        packages: 'external',
        tsconfig: join(ROOT, 'tsconfig.base.json'),
        logLevel: 'silent',
      });

      const serviceName = `obs-bundle-${randomUUID().slice(0, 8)}`;
      const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          // The bundle lives outside the repo; its external packages resolve from the repo's node_modules.
          NODE_PATH: join(ROOT, 'node_modules'),
          SERVICE_NAME: serviceName,
          OTEL_EXPORTER_OTLP_ENDPOINT: OTLP,
          DATABASE_URL,
        },
      });
      const logLine = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, string>)
        .find((line) => line.message === 'inside root span');
      assert.ok(logLine, `log line on stdout, got: ${stdout}`);
      assert.equal(logLine.service, serviceName);
      assert.match(logLine.trace_id, /^[0-9a-f]{32}$/);

      const spans = await pollJaeger(`/api/traces/${logLine.trace_id}`, ([t]) =>
        t &&
        t.spans.some((s) => tag(s, 'db.system') === 'postgresql' || tag(s, 'db.system.name') === 'postgresql')
          ? t.spans
          : undefined,
      );
      const root = spans.find((s) => s.operationName === 'fixture-root');
      assert.equal(root?.spanID, logLine.span_id, 'the log line names the span that was active');
      const kinds = (kind: string) => spans.filter((s) => tag(s, 'span.kind') === kind);
      assert.equal(
        kinds('client').filter((s) => /GET/.test(s.operationName)).length,
        2,
        'both outgoing requests',
      );
      const serverSpans = kinds('server');
      assert.equal(serverSpans.length, 1, 'the /health/live request is not traced');
      assert.match(String(tag(serverSpans[0], 'http.target') ?? tag(serverSpans[0], 'url.path')), /^\/ping/);
    });
  });
});
