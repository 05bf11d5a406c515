import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { uniqueGroupId, waitFor } from '../src/testing';
import { BROKERS, harness, type Harness } from './harness';

const ROOT = resolve(__dirname, '../../..');
const WORKER = join(__dirname, 'fixture-worker.ts');

interface WorkerEvent {
  event: string;
  pid: number;
  id?: string;
  offset?: string;
}

class Worker {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  }
  static start(env: Record<string, string>): Worker {
    const child = spawn(process.execPath, ['--require', '@swc-node/register', WORKER], {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: BROKERS.join(','),
        SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'),
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return new Worker(child);
  }
}

function eventsOf(file: string): WorkerEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WorkerEvent);
}

const count = (events: WorkerEvent[], event: string, id: string) =>
  events.filter((e) => e.event === event && e.id === id).length;

async function setup(purpose: string): Promise<{ h: Harness; env: Record<string, string>; file: string }> {
  const h = await harness(purpose);
  const file = join(mkdtempSync(join(tmpdir(), 'fleet-worker-')), 'events.jsonl');
  return { h, file, env: { TOPIC: h.topic.name, GROUP: uniqueGroupId(purpose), EVENTS_FILE: file } };
}

describe('worker process lifecycle against a real broker', () => {
  test('(f) SIGTERM during a handler → the message completes, is committed, and is not delivered again', async () => {
    const { h, env, file } = await setup('sigterm');
    try {
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'm1', n: 1 } }]);
      const first = Worker.start({ ...env, MODE: 'sleep', SLEEP_MS: '4000' });
      await waitFor('m1 to start', () => count(eventsOf(file), 'start', 'm1') === 1, 60_000);
      first.child.kill('SIGTERM');
      const exit = await first.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, 'graceful exit 0');
      assert.equal(count(eventsOf(file), 'done', 'm1'), 1, 'in-flight message completed before exit');

      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'm2', n: 2 } }]);
      const second = Worker.start({ ...env, MODE: 'sleep', SLEEP_MS: '10' });
      await waitFor('m2 after restart', () => count(eventsOf(file), 'done', 'm2') === 1, 60_000);
      second.child.kill('SIGTERM');
      await second.exited;
      assert.equal(count(eventsOf(file), 'start', 'm1'), 1, 'm1 was committed: not delivered again');
    } finally {
      await h.close();
    }
  });

  test('(g) SIGKILL during a handler → the message is delivered again after restart', async () => {
    const { h, env, file } = await setup('sigkill');
    try {
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'm1', n: 1 } }]);
      const first = Worker.start({ ...env, MODE: 'sleep', SLEEP_MS: '30000' });
      await waitFor('m1 to start', () => count(eventsOf(file), 'start', 'm1') === 1, 60_000);
      first.child.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');

      // The dead member's session (10 s) must expire before the group gives its partition away.
      const second = Worker.start({ ...env, MODE: 'sleep', SLEEP_MS: '10' });
      await waitFor('m1 to be redelivered and done', () => count(eventsOf(file), 'done', 'm1') === 1, 90_000);
      second.child.kill('SIGTERM');
      await second.exited;
      assert.equal(count(eventsOf(file), 'start', 'm1'), 2, 'delivered at least once more');
    } finally {
      await h.close();
    }
  });

  test('(h) a programmer error in a handler → the process exits non-zero and the message is not committed', async () => {
    const { h, env, file } = await setup('bug');
    try {
      await h.producer.send(h.topic, [{ key: 'k', value: { id: 'm1', n: 1 } }]);
      const buggy = Worker.start({ ...env, MODE: 'programmer-error' });
      const exit = await buggy.exited;
      assert.equal(exit.code, 70, 'exits with EX_SOFTWARE');
      assert.equal(count(eventsOf(file), 'start', 'm1'), 1);

      const admin = h.kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchOffsets({ groupId: env.GROUP!, topics: [h.topic.name] });
      await admin.disconnect();
      assert.equal(offsets[0]?.partitions[0]?.offset, '-1', 'nothing committed for the group');

      // Once the bug is fixed, the same message is delivered to the new build.
      const fixed = Worker.start({ ...env, MODE: 'sleep', SLEEP_MS: '10' });
      await waitFor(
        'm1 handled by the fixed worker',
        () => count(eventsOf(file), 'done', 'm1') === 1,
        60_000,
      );
      fixed.child.kill('SIGTERM');
      await fixed.exited;
    } finally {
      await h.close();
    }
  });
});
