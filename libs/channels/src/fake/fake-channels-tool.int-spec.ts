import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from './receiver.test-helper';

const ROOT = resolve(__dirname, '../../../..');

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

test('tools/fake-channels.ts serves the fake from env, logs a JSON line per call and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--require', '@swc-node/register', join(ROOT, 'tools/fake-channels.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'),
        FAKE_CHANNELS_PORT: String(port),
        FAKE_WHATSAPP_TOKEN: 'tool-token',
        FAKE_WHATSAPP_PHONE_NUMBER_ID: '4242',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    await waitUntil('the listening line', () => stdout.includes('fake channels listening'), 30_000);
    const response = await fetch(`http://127.0.0.1:${port}/v21.0/4242/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer tool-token', 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: '+15551234567',
        type: 'text',
        text: { body: 'hi' },
      }),
    });
    assert.equal(response.status, 200, stderr);
    await waitUntil('the call line', () => stdout.includes('"message":"channel call"'));
    const line = stdout.split('\n').find((l) => l.includes('"message":"channel call"')) ?? '';
    const logged = JSON.parse(line) as Record<string, unknown>;
    assert.equal(logged.channel, 'whatsapp');
    assert.equal(logged.status, 200);
    assert.equal(logged.to, '+15551234567');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
});

test('tools/fake-channels.ts with a bad port exits 1 naming the variable', async () => {
  const child = spawn(
    process.execPath,
    ['--require', '@swc-node/register', join(ROOT, 'tools/fake-channels.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'), FAKE_CHANNELS_PORT: 'x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  assert.equal(code, 1);
  assert.match(stderr, /FAKE_CHANNELS_PORT/);
});
