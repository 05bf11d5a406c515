/**
 * Test helpers for apps: the bundled app (the artifact that ships) as a child process with its
 * own health port, its output kept for assertions and written to `.local/logs/tests/`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const LOGS = join(WORKSPACE_ROOT, '.local/logs/tests');
const VERBOSE = process.env.FLEET_TEST_VERBOSE === '1';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const built = new Set<string>();

/**
 * An app's `apps/<app>/local.env` (what tools/fleet runs it with) as a record: `KEY=value` lines,
 * comments and blank lines skipped. Tests take settings from it that deployments share, so that
 * they measure the app as it runs (e.g. the exporter's NODE_OPTIONS).
 */
export function readLocalEnv(app: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(WORKSPACE_ROOT, 'apps', app, 'local.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** Bundles `apps/<app>` with tools/build.mjs into `dist/test/<app>/main.js`, once per test process. */
export function buildAppBundle(app: string): string {
  const bundle = join(WORKSPACE_ROOT, 'dist/test', app, 'main.js');
  if (!built.has(app)) {
    execFileSync(process.execPath, ['tools/build.mjs', `apps/${app}/src/main.ts`, bundle], {
      cwd: WORKSPACE_ROOT,
      stdio: VERBOSE ? 'inherit' : 'ignore',
    });
    built.add(app);
  }
  return bundle;
}

export interface AppProcessOptions {
  /** Folder name under `apps/`; also the `SERVICE_NAME`. */
  app: string;
  /** On top of the test process' env, `SERVICE_NAME`, a free `HEALTH_PORT` and `OTEL_ENABLED=false`. */
  env?: Record<string, string>;
}

/** One running app process. */
export class AppProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';

  private constructor(
    readonly app: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
  ) {
    mkdirSync(LOGS, { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      log.write(chunk);
      if (VERBOSE) process.stderr.write(`[${app} ${child.pid}] ${chunk.toString()}`);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((done) =>
      child.on('exit', (code, signal) => {
        log.end();
        done({ code, signal });
      }),
    );
  }

  static async start({ app, env = {} }: AppProcessOptions): Promise<AppProcess> {
    const bundle = buildAppBundle(app);
    const port = await freePort();
    const child = spawn(process.execPath, [bundle], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, SERVICE_NAME: app, HEALTH_PORT: String(port), OTEL_ENABLED: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(app, child, port, join(LOGS, `${app}-${child.pid}.log`));
  }

  /** Waits until `path` answers 2xx; fails early, naming the log, if the process exits. */
  async waitForHealth(path = '/health/live', timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`${this.app} exited (${this.child.exitCode}); log: ${this.logFile}\n${this.tail()}`);
      }
      const ok = await fetch(`http://127.0.0.1:${this.port}${path}`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${this.app} ${path} not ok within ${timeoutMs} ms; log: ${this.logFile}`);
  }

  /** Sum of a metric's samples whose labels include `labels`; undefined when not served. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = await fetch(`http://127.0.0.1:${this.port}/metrics`).then((r) => r.text());
    let sum: number | undefined;
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const have = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(match[3]);
    }
    return sum;
  }

  /** The app's JSON log lines so far. */
  logs(): Array<Record<string, unknown>> {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
