import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ROOT } from './harness';

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAndWait(pid: number, signal: NodeJS.Signals, what: string): Promise<void> {
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what} (pid ${pid}) still alive 30 s after ${signal}`);
    await sleep(50);
  }
}

const firstLine = (file: string) => Number(readFileSync(file, 'utf8').split('\n')[0]);

/** The local servers are the real ones from tools/infra; these break and mend them. */
export const infra = {
  async up(server: string): Promise<void> {
    await run('bash', ['tools/infra', 'up', server], { cwd: ROOT });
  },
  async down(server: string): Promise<void> {
    await run('bash', ['tools/infra', 'down', server], { cwd: ROOT });
  },
  /** SIGKILL the broker: no controlled shutdown, unflushed segments, as when a node dies. */
  async killBroker(): Promise<void> {
    await killAndWait(firstLine(join(ROOT, '.local/run/kafka.pid')), 'SIGKILL', 'kafka');
  },
  /** What `pg_ctl stop -m immediate` does: SIGQUIT to the postmaster, no checkpoint, crash recovery on start. */
  async crashPostgres(): Promise<void> {
    await killAndWait(firstLine(join(ROOT, '.local/data/postgres/postmaster.pid')), 'SIGQUIT', 'postgres');
  },
};
