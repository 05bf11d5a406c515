/**
 * The machine-wide fault lock: a test that stops a shared server (the broker) holds an exclusive
 * `flock` on /tmp/fleet-fault.lock for as long as the server is down, so fault tests of different
 * projects never overlap. Run by hand as `flock /tmp/fleet-fault.lock node tools/run-tests.mjs …`,
 * the lock is already held by an ancestor process and is not taken again (that would deadlock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';

export const FAULT_LOCK = '/tmp/fleet-fault.lock';

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** True when a process above this one (e.g. `flock … node tools/run-tests.mjs`) holds the lock. */
function heldByAncestor(): boolean {
  const inode = statSync(FAULT_LOCK).ino;
  const holders = new Set(
    readFileSync('/proc/locks', 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === 'FLOCK' && f[3] === 'WRITE' && f[5]?.endsWith(`:${inode}`))
      .map((f) => Number(f[4])),
  );
  for (let pid = process.pid; pid > 1; pid = parentOf(pid)) if (holders.has(pid)) return true;
  return false;
}

/** Resolves once this test holds the exclusive fault lock; the returned function releases it. */
export async function acquireFaultLock(timeoutMs: number): Promise<() => void> {
  closeSync(openSync(FAULT_LOCK, 'a'));
  if (heldByAncestor()) return () => undefined;
  const holder: ChildProcess = spawn(
    'flock',
    [
      '--exclusive',
      '--timeout',
      String(Math.ceil(timeoutMs / 1000)),
      FAULT_LOCK,
      'sh',
      '-c',
      'echo locked; exec cat',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`could not take ${FAULT_LOCK} (flock exited ${code})`)));
  });
  // `cat` holds the lock until its stdin closes — also when this process dies.
  return () => holder.stdin?.end();
}
