import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { freePort } from '../src/testing';
import { join, resolve } from 'node:path';
import { waitFor } from '@fleet/kafka/testing';

const ROOT = resolve(__dirname, '../../..');
const SOURCE = join(__dirname, 'fixture-app', 'main.ts');
const BUNDLE = join(ROOT, 'dist', 'test', 'fixture-app', 'main.js');
const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';
const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';

function start(entry: 'source' | 'bundle', env: Record<string, string | undefined>) {
  const args = entry === 'source' ? ['--require', '@swc-node/register', SOURCE] : [BUNDLE];
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['SERVICE_NAME', 'HEALTH_PORT', 'PING_URL'].includes(k)),
  );
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...clean, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('runService: how every app boots, serves health and stops', () => {
  before(() => {
    execFileSync(process.execPath, ['tools/build.mjs', SOURCE, BUNDLE], { cwd: ROOT, stdio: 'inherit' });
  });

  for (const entry of ['source', 'bundle'] as const) {
    test(`(${entry}) when required variables are missing, the app exits 1 naming each one`, async () => {
      const app = start(entry, { PING_URL: 'http://127.0.0.1:1' });
      assert.equal(await app.exited, 1);
      const { stderr } = app.output();
      assert.match(stderr, /SERVICE_NAME/);
      assert.match(stderr, /HEALTH_PORT/);
    });
  }

  test('when a variable is invalid, the app exits 1 naming it and the reason', async () => {
    const app = start('source', { SERVICE_NAME: 'fixture', HEALTH_PORT: 'abc', PING_URL: 'ftp://x' });
    assert.equal(await app.exited, 1);
    const { stderr } = app.output();
    assert.match(stderr, /HEALTH_PORT/);
    assert.match(stderr, /PING_URL/);
    assert.doesNotMatch(stderr, /SERVICE_NAME/);
  });

  test('health: live without dependency checks, ready follows its checks, metrics served, SIGTERM exits 0', async () => {
    const port = await freePort();
    const app = start('source', {
      SERVICE_NAME: 'fixture',
      HEALTH_PORT: String(port),
      PING_URL: 'http://127.0.0.1:1/', // nothing listens there: readiness must fail, liveness must not
      OTEL_ENABLED: 'false',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const live = await waitFor(
        'the health listener',
        () => fetch(`${base}/health/live`).catch(() => undefined),
        30_000,
      );
      assert.equal(live.status, 200);
      const ready = await fetch(`${base}/health/ready`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      assert.match(body.checks.ping ?? '', /ECONNREFUSED/);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /process_cpu_user_seconds_total/);
      const logLine = app
        .output()
        .stdout.split('\n')
        .find((l) => l.includes('service started'));
      assert.ok(logLine, 'JSON log line announcing the start');
      assert.equal(JSON.parse(logLine).service, 'fixture');
    } finally {
      app.child.kill('SIGTERM');
    }
    assert.equal(await app.exited, 0);
  });

  test('(bundle) the built app traces: its outgoing http call at start reaches Jaeger', async () => {
    const port = await freePort();
    const service = `fixture-bundle-${randomUUID().slice(0, 8)}`;
    const app = start('bundle', {
      SERVICE_NAME: service,
      HEALTH_PORT: String(port),
      PING_URL: `${JAEGER}/api/services`,
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP,
    });
    try {
      const ready = await waitFor(
        'readiness',
        () =>
          fetch(`http://127.0.0.1:${port}/health/ready`).then(
            (r) => (r.status === 200 ? r : undefined),
            () => undefined,
          ),
        30_000,
      );
      assert.equal(ready.status, 200);
    } finally {
      app.child.kill('SIGTERM'); // shutdown flushes the spans
    }
    assert.equal(await app.exited, 0);
    const traces = await waitFor(
      'a trace of the bundled service in Jaeger',
      async () => {
        const res = await fetch(`${JAEGER}/api/traces?service=${service}&limit=5`);
        const json = (await res.json()) as { data: { spans: { operationName: string }[] }[] };
        return json.data.length > 0 ? json.data : undefined;
      },
      20_000,
    );
    const names = traces.flatMap((t) => t.spans.map((s) => s.operationName));
    assert.ok(
      names.some((n) => /^GET/.test(n)),
      `an HTTP client span, got ${names.join(', ')}`,
    );
  });
});
