import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

const ROOT = resolve(__dirname, '../../../..');
const TOOL = join(ROOT, 'tools/fake-llm.ts');

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

async function waitUntil(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function runTool(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--require', '@swc-node/register', TOOL], {
    cwd: ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, output, exited };
}

test('tools/fake-llm.ts serves the fake from env, logs a JSON line per chat call and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const { child, output, exited } = runTool({
    FAKE_LLM_PORT: String(port),
    FAKE_LLM_MODELS: 'tool-model, other-model',
    FAKE_LLM_TOKENS_PER_SECOND: '1000',
    FAKE_LLM_API_KEY: 'sk-tool',
  });
  try {
    await waitUntil('the listening line', () => output.stdout.includes('fake llm listening'));
    const headers = { authorization: 'Bearer sk-tool', 'content-type': 'application/json' };
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers })).json()) as {
      data: Array<{ id: string }>;
    };
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['tool-model', 'other-model'],
    );
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'tool-model',
        messages: [{ role: 'user', content: 'score this' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'score',
            strict: true,
            schema: {
              type: 'object',
              properties: { score: { type: 'integer', minimum: 0, maximum: 10 } },
              required: ['score'],
              additionalProperties: false,
            },
          },
        },
      }),
    });
    assert.equal(response.status, 200, output.stderr);
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    const { score } = JSON.parse(body.choices[0].message.content) as { score: number };
    assert.ok(Number.isInteger(score) && score >= 0 && score <= 10);
    await waitUntil('the call line', () => output.stdout.includes('"message":"chat call"'));
    const line = output.stdout.split('\n').find((l) => l.includes('"message":"chat call"')) ?? '';
    const logged = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(
      [logged.model, logged.schemaName, logged.status, logged.outcome],
      ['tool-model', 'score', 200, 'ok'],
    );
    assert.equal(logged.messages, undefined);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output.stderr);
});

test('tools/fake-llm.ts with bad settings exits 1 naming the variables', async () => {
  const { output, exited } = runTool({ FAKE_LLM_PORT: 'x', FAKE_LLM_TOKENS_PER_SECOND: '0' });
  assert.equal(await exited, 1);
  assert.match(output.stderr, /FAKE_LLM_PORT/);
  assert.match(output.stderr, /FAKE_LLM_TOKENS_PER_SECOND/);
});
