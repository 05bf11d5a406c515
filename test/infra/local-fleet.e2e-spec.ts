/**
 * The README's promises about the local servers and the run command, checked for real:
 * `tools/fleet up` shows a traced round trip, `tools/infra status` lists every server up, a port
 * taken by someone else is reported by number, and `down` leaves no process of this clone behind.
 * Runs last (e2e tier); it restarts the servers it stopped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from '@fleet/kafka/testing';

const ROOT = resolve(__dirname, '../..');
const SERVERS = ['kafka', 'postgres', 'redis', 'minio', 'jaeger', 'prometheus'];
const APPS = ['outbox-poller', 'redis-backfill'];
const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

/**
 * Server processes started from this clone: a server binary whose working directory is inside the
 * clone or whose command line points into its .local/ (Redis and Postgres' children rewrite theirs).
 */
function serverProcessesOfThisClone(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const ours = cmdline.includes(`${ROOT}/.local/`) || cwd === ROOT || cwd.startsWith(`${ROOT}/`);
      if (/java|postgres|redis|minio|jaeger|prometheus/.test(exe) && ours) {
        found.push(`${pid} ${exe}`);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** App processes `tools/fleet up` started from this clone (`node … dist/apps/<app>/main.js`). */
function appProcessesOfThisClone(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return readlinkSync(`/proc/${pid}/cwd`) === ROOT && /dist\/apps\/[a-z-]+\/main\.js/.test(cmdline)
          ? [`${pid} ${cmdline}`]
          : [];
      } catch {
        return [];
      }
    });
}

describe('local fleet: run command and servers', () => {
  test('tools/fleet up starts the apps and shows three traced round trips: direct, outbox, fallback', async (t) => {
    // Whatever fails below, leave no app running and the servers up for the next tests.
    let stopped = false;
    t.after(() => {
      if (!stopped) run('bash', ['tools/fleet', 'down']);
      run('bash', ['tools/infra', 'up']);
    });
    const { code, out } = run('bash', ['tools/fleet', 'up']);
    assert.equal(code, 0, out);
    for (const app of APPS) assert.match(out, new RegExp(`${app}: ready on http://127\\.0\\.0\\.1:\\d+`));
    const traceOf = (path: string) => {
      const line = new RegExp(
        `smoke: ${path} +round trip via .* in \\d+ ms; trace .*/api/traces/([0-9a-f]{32})`,
      ).exec(out);
      assert.ok(line, `the ${path} round trip and its trace id are printed:\n${out}`);
      return line[1];
    };
    type Trace = {
      data:
        | {
            spans: { operationName: string; processID: string }[];
            processes: Record<string, { serviceName: string }>;
          }[]
        | null;
    };
    // Each service exports its spans on its own schedule (the apps batch them for up to 5 s), so
    // wait for the spans each path must have, not for a count.
    const traceHas = (traceId: string, required: string[]) =>
      waitFor(
        `spans ${required.join(', ')} of trace ${traceId} in Jaeger`,
        async () => {
          const body = (await (await fetch(`${JAEGER}/api/traces/${traceId}`)).json()) as Trace;
          const t = body.data?.[0];
          const spans =
            t?.spans.map((s) => `${t.processes[s.processID].serviceName}: ${s.operationName}`) ?? [];
          return required.every((name) => spans.includes(name)) ? spans : undefined;
        },
        30_000,
      );
    await traceHas(traceOf('direct'), [
      'fleet-smoke: fleet.smoke.ping.1 publish',
      'fleet-smoke: fleet.smoke.ping.1 process',
    ]);
    // The outbox path: the poller's publish span sits between the writer and the consumer.
    await traceHas(traceOf('outbox'), [
      'outbox-poller: fleet.smoke.ping.1 publish',
      'fleet-smoke: fleet.smoke.ping.1 process',
    ]);
    await traceHas(traceOf('fallback'), [
      'fleet-smoke: smoke fallback',
      'fleet-smoke: fleet.smoke.ping.1 process',
    ]);

    const status = run('bash', ['tools/fleet', 'status']);
    for (const app of APPS) assert.match(status.out, new RegExp(`^app ${app} up \\(pid \\d+\\)`, 'm'));
    const down = run('bash', ['tools/fleet', 'down']);
    stopped = true;
    assert.equal(down.code, 0, down.out);
    assert.deepEqual(appProcessesOfThisClone(), [], 'no app process left behind');
    assert.deepEqual(serverProcessesOfThisClone(), [], 'no server process left behind');
  });

  test('tools/infra status lists every server up', () => {
    const { code, out } = run('bash', ['tools/infra', 'status']);
    assert.equal(code, 0, out);
    for (const server of SERVERS) assert.match(out, new RegExp(`^${server}\\s+up\\s+pid \\d+`, 'm'));
  });

  test('a port taken by another process is reported with its number, and nothing is left started', async () => {
    assert.equal(run('bash', ['tools/infra', 'down', 'redis']).code, 0);
    const squatter = createServer().listen(6379, '127.0.0.1');
    await new Promise((done) => squatter.once('listening', done));
    try {
      const { code, out } = run('bash', ['tools/infra', 'up', 'redis']);
      assert.notEqual(code, 0);
      assert.match(out, /redis: FAILED: port 6379 on 127\.0\.0\.1 is already in use/);
      assert.equal(serverProcessesOfThisClone().filter((p) => p.includes('redis')).length, 0);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
    assert.equal(run('bash', ['tools/infra', 'up', 'redis']).code, 0);
  });

  test('tools/infra down stops every server and leaves no process behind; up brings them back', () => {
    assert.ok(serverProcessesOfThisClone().length >= SERVERS.length);
    const down = run('bash', ['tools/infra', 'down']);
    assert.equal(down.code, 0, down.out);
    assert.deepEqual(serverProcessesOfThisClone(), []);
    const status = run('bash', ['tools/infra', 'status']);
    assert.notEqual(status.code, 0, 'status reports servers down');
    for (const server of SERVERS) assert.match(status.out, new RegExp(`^${server}\\s+down`, 'm'));
    const up = run('bash', ['tools/infra', 'up']);
    assert.equal(up.code, 0, up.out);
  });
});
