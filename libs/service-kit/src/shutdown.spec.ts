import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installGracefulShutdown } from './shutdown';

const quiet = { info: () => undefined, error: () => undefined };

test('when every step succeeds, steps run in order once and the exit code is 0', async () => {
  const order: string[] = [];
  const codes: number[] = [];
  const shutdown = installGracefulShutdown({
    logger: quiet,
    signals: [],
    exit: (code) => codes.push(code),
    steps: [
      { name: 'a', run: async () => void order.push('a') },
      { name: 'b', run: async () => void order.push('b') },
    ],
  });
  await Promise.all([shutdown('test'), shutdown('again')]);
  assert.deepEqual(order, ['a', 'b']);
  assert.deepEqual(codes, [0]);
});

test('when a step fails, later steps still run and the exit code is 1', async () => {
  const order: string[] = [];
  const codes: number[] = [];
  const shutdown = installGracefulShutdown({
    logger: quiet,
    signals: [],
    exit: (code) => codes.push(code),
    steps: [
      { name: 'bad', run: async () => Promise.reject(new Error('x')) },
      { name: 'b', run: async () => void order.push('b') },
    ],
  });
  await shutdown('test');
  assert.deepEqual(order, ['b']);
  assert.deepEqual(codes, [1]);
});

test('when a step hangs past the deadline, the process exits 1', async () => {
  const codes: number[] = [];
  const shutdown = installGracefulShutdown({
    logger: quiet,
    signals: [],
    timeoutMs: 50,
    exit: (code) => codes.push(code),
    steps: [{ name: 'hang', run: () => new Promise((resolve) => setTimeout(resolve, 300)) }],
  });
  void shutdown('test');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(codes, [1]);
});
