import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { parseConfig } from '@fleet/config';
import { Registry } from 'prom-client';
import { z } from 'zod';
import {
  LlmAbortedError,
  LlmClient,
  LlmModelNotAvailableError,
  LlmOutputError,
  LlmRequestError,
  LlmUnavailableError,
  llmEnv,
  llmOptionsFromEnv,
  strictJsonSchema,
  type LlmClientOptions,
} from './index';
import { FakeLlmServer, type FakeLlmRequest } from './testing';

const Story = z.object({
  hypeScore: z.number().min(0).max(10),
  ethicsScore: z.number().min(0).max(10),
  realityCheck: z.string().min(10).max(300),
  eli5Summary: z.string().min(10).max(300),
});

const messages = (text: string) => [
  { role: 'system' as const, content: 'Rate the story. Answer with JSON only.' },
  { role: 'user' as const, content: text },
];

const ask = (client: LlmClient, text = 'Startup says its chatbot is sentient.', signal?: AbortSignal) =>
  client.completeJson({ messages: messages(text), schema: Story, schemaName: 'story_enhancement', signal });

function quietLogger() {
  const lines: { obj: object; msg?: string }[] = [];
  const at = (obj: object, msg?: string) => void lines.push({ obj, msg });
  return { lines, info: at, warn: at };
}

/** Sum of a metric's values matching `labels`; `<histogram>_count` / `_sum` read the histogram's series. */
async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const series = /_(count|sum)$/.exec(name);
  const base = series ? name.slice(0, -series[0].length) : name;
  const metrics = await registry.getMetricsAsJSON();
  const found = metrics.find((m) => m.name === name) ?? metrics.find((m) => m.name === base);
  return (found?.values ?? [])
    .filter((v) => found?.name === name || (v as { metricName?: string }).metricName === name)
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let primary: FakeLlmServer;
let fallback: FakeLlmServer;
const clients: LlmClient[] = [];

function makeClient(overrides: Partial<LlmClientOptions> = {}) {
  const registry = new Registry();
  const logger = quietLogger();
  const client = new LlmClient({
    primary: { url: primary.url, model: 'fake-model' },
    registry,
    logger,
    requestTimeoutMs: 5_000,
    unavailableRetries: 0,
    unavailableRetryDelayMs: 10,
    breaker: { minimumCalls: 3, failureThresholdPercent: 50, resetTimeoutMs: 400 },
    ...overrides,
  });
  clients.push(client);
  return { client, registry, logger };
}

before(async () => {
  primary = await FakeLlmServer.start({ tokensPerSecond: 4_000 });
  fallback = await FakeLlmServer.start({
    tokensPerSecond: 4_000,
    models: ['cloud/qwen-2.5-7b-instruct'],
    apiKey: 'sk-fallback-test',
  });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.shutdown();
  primary.reset();
  fallback.reset();
});
after(async () => {
  await primary.stop();
  await fallback.stop();
});

describe('structured output', () => {
  test('a valid answer comes back validated, with usage, timing, model and endpoint', async () => {
    let seen: FakeLlmRequest | undefined;
    const answer = {
      hypeScore: 8.5,
      ethicsScore: 3,
      realityCheck: 'Chatbots are not sentient; this is marketing.',
      eli5Summary: 'A company says its talking program has feelings. It does not.',
    };
    primary.setResponder((request) => {
      seen = request;
      return answer;
    });
    const { client } = makeClient();
    const result = await client.completeJson({
      messages: messages('Startup says its chatbot is sentient.'),
      schema: Story,
      schemaName: 'story_enhancement',
      temperature: 0.2,
      maxTokens: 300,
    });
    assert.deepEqual(result.value, answer);
    const [call] = primary.calls;
    assert.deepEqual(result.usage, {
      promptTokens: call.promptTokens,
      completionTokens: call.completionTokens,
    });
    assert.ok(result.usage.completionTokens > 0);
    assert.equal(result.model, 'fake-model');
    assert.equal(result.endpoint, primary.url);
    assert.equal(result.endpointRole, 'primary');
    assert.equal(result.requests, 1);
    assert.ok(result.durationMs > 0);
    // The request as the server saw it: strict json_schema from the same zod schema.
    assert.deepEqual(
      [call.model, call.responseFormat, call.schemaName, call.strict, call.maxTokens, call.temperature],
      ['fake-model', 'json_schema', 'story_enhancement', true, 300, 0.2],
    );
    assert.deepEqual(seen?.schema, strictJsonSchema(Story));
  });

  test('the fake default answer (derived from the schema) passes validation', async () => {
    const { client } = makeClient();
    const result = await ask(client);
    assert.ok(Story.safeParse(result.value).success);
  });

  test('when the model answers invalid JSON twice, the third answer is used (3 calls)', async () => {
    primary.invalidJsonNext(2);
    const { client, logger } = makeClient();
    const result = await ask(client);
    assert.ok(Story.safeParse(result.value).success);
    assert.equal(result.requests, 3);
    assert.deepEqual(
      primary.calls.map((c) => c.outcome),
      ['invalid_json', 'invalid_json', 'ok'],
    );
    // Invalid answers cost tokens too: usage covers all three.
    assert.equal(
      result.usage.completionTokens,
      primary.calls.reduce((sum, c) => sum + c.completionTokens, 0),
    );
    assert.equal(logger.lines.filter((l) => l.msg === 'LLM answer unusable').length, 2);
  });

  test('when every answer is invalid JSON, LlmOutputError after 1 + maxOutputRetries calls, permanent, with the reason', async () => {
    primary.invalidJsonAlways();
    const { client } = makeClient({ maxOutputRetries: 2 });
    await assert.rejects(ask(client), (error: unknown) => {
      assert.ok(error instanceof LlmOutputError);
      assert.equal(error.code, 'INVALID_OUTPUT');
      assert.equal(error.retriable, false);
      assert.equal(error.reason, 'invalid_json');
      assert.equal(error.attempts, 3);
      assert.match(error.failures[0].excerpt, /^Sure! Here is the JSON/);
      assert.match(error.message, /story_enhancement.*3 attempt/);
      return true;
    });
    assert.equal(primary.calls.length, 3);
  });

  test('with maxOutputRetries 0 an invalid answer fails after exactly one call', async () => {
    primary.invalidJsonAlways();
    const { client } = makeClient({ maxOutputRetries: 0 });
    await assert.rejects(ask(client), LlmOutputError);
    assert.equal(primary.calls.length, 1);
  });

  test('an answer of the wrong shape is retried, and reported as schema_mismatch naming the field when it persists', async () => {
    primary.mismatchNext(1);
    const { client } = makeClient();
    assert.equal((await ask(client)).requests, 2);

    primary.setResponder(() => ({
      hypeScore: 11,
      ethicsScore: 2,
      realityCheck: 'x'.repeat(20),
      eli5Summary: 'y'.repeat(20),
    }));
    await assert.rejects(
      ask(client),
      (error: unknown) =>
        error instanceof LlmOutputError &&
        error.reason === 'schema_mismatch' &&
        /hypeScore/.test(error.message),
    );
  });

  test('a truncated answer (finish_reason length) is retried', async () => {
    primary.truncateNext(1);
    const { client } = makeClient();
    const result = await ask(client);
    assert.equal(result.requests, 2);
    assert.deepEqual(
      primary.calls.map((c) => c.outcome),
      ['truncated', 'ok'],
    );
  });

  test('an answer that never fits maxTokens fails as truncated', async () => {
    const { client } = makeClient({ defaultMaxTokens: 8 });
    await assert.rejects(
      ask(client),
      (error: unknown) => error instanceof LlmOutputError && error.reason === 'truncated',
    );
    assert.equal(primary.calls.length, 3);
  });

  test('a schema strict mode cannot express is refused before any request (programmer error)', async () => {
    const { client } = makeClient();
    await assert.rejects(
      client.completeJson({
        messages: messages('x'),
        schema: z.object({ a: z.string().optional() }),
        schemaName: 'bad',
      }),
      TypeError,
    );
    assert.equal(primary.calls.length, 0);
  });
});

describe('unavailability, breaker and timeouts', () => {
  test('500s open the breaker after its threshold; it then rejects fast, half-opens and closes once the server recovers', async () => {
    primary.failAlways(500);
    const { client, registry } = makeClient();
    for (let i = 0; i < 3; i++) {
      await assert.rejects(ask(client), (error: unknown) => {
        assert.ok(error instanceof LlmUnavailableError);
        assert.deepEqual(
          [error.reason, error.status, error.retriable, error.endpoint],
          ['server_error', 500, true, 'primary'],
        );
        return true;
      });
    }
    assert.equal(client.breakerStates.primary, 'open');
    assert.equal(await metric(registry, 'circuit_breaker_state', { breaker: 'llm-primary' }), 2);

    const t0 = performance.now();
    await assert.rejects(
      ask(client),
      (error: unknown) =>
        error instanceof LlmUnavailableError && error.reason === 'breaker_open' && error.retryAfterMs === 400,
    );
    assert.ok(performance.now() - t0 < 100, 'an open breaker must fail fast');
    assert.equal(primary.calls.length, 3, 'an open breaker must not call the endpoint');

    primary.recover();
    await sleep(450);
    assert.equal(client.breakerStates.primary, 'half-open');
    const result = await ask(client);
    assert.ok(Story.safeParse(result.value).success);
    assert.equal(client.breakerStates.primary, 'closed');
    assert.equal(await metric(registry, 'circuit_breaker_state', { breaker: 'llm-primary' }), 0);
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'server_error' }), 3);
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'breaker_open' }), 1);
  });

  test('invalid output never opens the breaker', async () => {
    primary.invalidJsonAlways();
    const { client } = makeClient({ maxOutputRetries: 0 });
    for (let i = 0; i < 6; i++) await assert.rejects(ask(client), LlmOutputError);
    assert.equal(client.breakerStates.primary, 'closed');
    assert.equal(primary.calls.length, 6);
  });

  test('a 4xx (unknown model) is a permanent LlmRequestError, sent once, not counted against the breaker', async () => {
    const { client } = makeClient({
      primary: { url: primary.url, model: 'not-loaded' },
      unavailableRetries: 2,
    });
    for (let i = 0; i < 4; i++) {
      await assert.rejects(ask(client), (error: unknown) => {
        assert.ok(error instanceof LlmRequestError);
        assert.deepEqual([error.status, error.retriable, error.code], [404, false, 'REQUEST_REJECTED']);
        assert.match(error.message, /not-loaded/);
        return true;
      });
    }
    assert.equal(primary.calls.length, 4);
    assert.equal(client.breakerStates.primary, 'closed');
  });

  test('a request with no answer within requestTimeoutMs fails as LlmUnavailableError timeout, not retried', async () => {
    primary.hangAlways();
    const { client, registry } = makeClient({ requestTimeoutMs: 300, unavailableRetries: 2 });
    const t0 = performance.now();
    await assert.rejects(ask(client), (error: unknown) => {
      assert.ok(error instanceof LlmUnavailableError);
      assert.equal(error.reason, 'timeout');
      assert.match(error.message, /within 300 ms/);
      return true;
    });
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 290 && elapsed < 2_000, `timed out after ${elapsed} ms`);
    assert.equal(primary.calls.length, 1);
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'timeout' }), 1);
    assert.equal(await metric(registry, 'llm_request_duration_seconds_count', { outcome: 'unavailable' }), 1);
  });

  test('a 500 followed by a good answer succeeds on the primary after one unavailability retry', async () => {
    primary.failNext(1, 500);
    const { client } = makeClient({ unavailableRetries: 1 });
    const result = await ask(client);
    assert.equal(result.endpointRole, 'primary');
    assert.equal(result.requests, 2);
  });

  test('a refused connection is LlmUnavailableError connection', async () => {
    const port = await closedPort();
    const { client } = makeClient({ primary: { url: `http://127.0.0.1:${port}/v1`, model: 'fake-model' } });
    await assert.rejects(
      ask(client),
      (error: unknown) =>
        error instanceof LlmUnavailableError &&
        error.reason === 'connection' &&
        /ECONNREFUSED/.test(error.message),
    );
  });
});

describe('concurrency limit', () => {
  const timed = () => {
    primary.setSpeed({ tokensPerSecond: 200 });
    primary.setCompletionTokens(20); // 100 ms of "GPU" per answer
  };

  test('with maxConcurrency 1, concurrent calls never overlap at the endpoint', async () => {
    timed();
    const { client } = makeClient();
    await Promise.all([ask(client, 'a'), ask(client, 'b'), ask(client, 'c')]);
    assert.equal(primary.maxOpenAtOnce, 1);
    const calls = primary.calls;
    for (let i = 1; i < calls.length; i++) {
      assert.ok(
        calls[i].receivedAt >= (calls[i - 1].finishedAt ?? Infinity),
        `call ${i + 1} arrived before call ${i} was answered`,
      );
    }
  });

  test('with maxConcurrency 2, two calls are open at the endpoint at once (the limit is what prevents overlap)', async () => {
    timed();
    const { client } = makeClient({ primary: { url: primary.url, model: 'fake-model', maxConcurrency: 2 } });
    await Promise.all([ask(client, 'a'), ask(client, 'b'), ask(client, 'c')]);
    assert.equal(primary.maxOpenAtOnce, 2);
  });

  test('waiting callers are served in the order they called', async () => {
    timed();
    const { client } = makeClient();
    const texts = ['first', 'second', 'third', 'fourth', 'fifth'];
    await Promise.all(texts.map((t) => ask(client, t)));
    assert.deepEqual(
      primary.calls.map((c) => (c.messages as Array<{ content: string }>)[1].content),
      texts,
    );
  });

  test('a caller whose signal aborts while waiting leaves the queue without reaching the endpoint', async () => {
    timed();
    const { client, registry } = makeClient();
    const running = ask(client, 'running');
    const controller = new AbortController();
    const waiting = ask(client, 'waiting', controller.signal);
    const third = ask(client, 'third');
    await sleep(20);
    controller.abort(new Error('job cancelled'));
    await assert.rejects(
      waiting,
      (error: unknown) => error instanceof LlmAbortedError && error.code === 'ABORTED',
    );
    await Promise.all([running, third]);
    assert.deepEqual(
      primary.calls.map((c) => (c.messages as Array<{ content: string }>)[1].content),
      ['running', 'third'],
    );
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'aborted' }), 1);
  });

  test('aborting an in-flight request cancels it and rejects with LlmAbortedError, not unavailability', async () => {
    primary.hangNext(1);
    const { client } = makeClient();
    const controller = new AbortController();
    const call = ask(client, 'x', controller.signal);
    await sleep(50);
    controller.abort();
    await assert.rejects(call, LlmAbortedError);
    assert.equal(client.breakerStates.primary, 'closed');
  });
});

describe('fallback endpoint', () => {
  const fallbackOptions = () => ({
    url: fallback.url,
    model: 'cloud/qwen-2.5-7b-instruct',
    apiKey: 'sk-fallback-test',
  });

  test('configured from env with a key file: used when the primary refuses connections, with its key', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'llm-key-'));
    try {
      writeFileSync(join(dir, 'key'), 'sk-fallback-test\n');
      const env = parseConfig(llmEnv, {
        LOCAL_LLM_ENDPOINT: `http://127.0.0.1:${port}/v1`,
        LOCAL_LLM_MODEL: 'fake-model',
        LLM_UNAVAILABLE_RETRY_DELAY_MS: '10',
        LLM_FALLBACK_ENDPOINT: fallback.url,
        LLM_FALLBACK_MODEL: 'cloud/qwen-2.5-7b-instruct',
        LLM_FALLBACK_API_KEY_FILE: join(dir, 'key'),
      });
      const registry = new Registry();
      const client = new LlmClient({ ...llmOptionsFromEnv(env), registry, logger: quietLogger() });
      clients.push(client);
      const result = await ask(client);
      assert.ok(Story.safeParse(result.value).success);
      assert.deepEqual(
        [result.endpointRole, result.endpoint, result.model],
        ['fallback', fallback.url, 'cloud/qwen-2.5-7b-instruct'],
      );
      assert.deepEqual(
        fallback.calls.map((c) => c.status),
        [200],
        'the fallback accepted the key read from the file',
      );
      assert.equal(await metric(registry, 'llm_fallback_requests_total', { reason: 'connection' }), 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('used when the primary answers 500 after its retries', async () => {
    primary.failAlways(500);
    const { client } = makeClient({ unavailableRetries: 1, fallback: fallbackOptions() });
    const result = await ask(client);
    assert.equal(result.endpointRole, 'fallback');
    assert.equal(primary.calls.length, 2, 'the primary gets its retry first');
    assert.equal(fallback.calls.length, 1);
    assert.equal(result.requests, 3);
  });

  test('never used for invalid output: the primary is asked again and the call fails as invalid output', async () => {
    primary.invalidJsonAlways();
    const { client } = makeClient({ fallback: fallbackOptions() });
    await assert.rejects(ask(client), LlmOutputError);
    assert.equal(primary.calls.length, 3);
    assert.equal(fallback.calls.length, 0);
  });

  test('never used for a rejected request (4xx)', async () => {
    const { client } = makeClient({
      primary: { url: primary.url, model: 'not-loaded' },
      fallback: fallbackOptions(),
    });
    await assert.rejects(ask(client), LlmRequestError);
    assert.equal(fallback.calls.length, 0);
  });

  test('while the primary breaker is open, calls go straight to the fallback without touching the primary', async () => {
    primary.failAlways(503);
    const { client } = makeClient({ fallback: fallbackOptions() });
    for (let i = 0; i < 3; i++) assert.equal((await ask(client)).endpointRole, 'fallback');
    assert.equal(client.breakerStates.primary, 'open');
    const before = primary.calls.length;
    assert.equal((await ask(client)).endpointRole, 'fallback');
    assert.equal(primary.calls.length, before);
    assert.equal(fallback.calls.length, 4);
  });

  test('not used when the primary is healthy', async () => {
    const { client } = makeClient({ fallback: fallbackOptions() });
    for (let i = 0; i < 3; i++) assert.equal((await ask(client)).endpointRole, 'primary');
    assert.equal(fallback.calls.length, 0);
  });

  test('when both are unavailable, LlmUnavailableError names both', async () => {
    primary.failAlways(503);
    fallback.failAlways(502);
    const { client } = makeClient({ fallback: fallbackOptions() });
    await assert.rejects(ask(client), (error: unknown) => {
      assert.ok(error instanceof LlmUnavailableError);
      assert.equal(error.endpoint, 'fallback');
      assert.match(error.message, /primary: .*HTTP 503.*fallback: .*HTTP 502/);
      return true;
    });
  });
});

describe('readiness', () => {
  test('passes when the endpoint lists the configured model', async () => {
    const { client } = makeClient();
    assert.deepEqual(await client.readiness(), {
      endpoint: primary.url,
      model: 'fake-model',
      models: ['fake-model'],
    });
  });

  test('fails naming the missing model and what the endpoint has', async () => {
    primary.setModels(['llama-3.1-8b-instruct', 'mistral-7b-instruct']);
    const { client } = makeClient();
    await assert.rejects(client.readiness(), (error: unknown) => {
      assert.ok(error instanceof LlmModelNotAvailableError);
      assert.equal(error.code, 'MODEL_NOT_AVAILABLE');
      assert.match(error.message, /"fake-model" is not served by http:\/\/127\.0\.0\.1:\d+\/v1/);
      assert.match(error.message, /"llama-3\.1-8b-instruct", "mistral-7b-instruct"/);
      assert.deepEqual(error.available, ['llama-3.1-8b-instruct', 'mistral-7b-instruct']);
      return true;
    });
  });

  test('fails as unavailable when the endpoint is down', async () => {
    const port = await closedPort();
    const { client } = makeClient({ primary: { url: `http://127.0.0.1:${port}/v1`, model: 'fake-model' } });
    await assert.rejects(
      client.readiness(),
      (error: unknown) => error instanceof LlmUnavailableError && error.reason === 'connection',
    );
  });
});

describe('metrics', () => {
  test('tokens in and out, tokens/s, durations by outcome and errors by class are recorded', async () => {
    const { client, registry } = makeClient();
    await ask(client, 'one');
    primary.invalidJsonNext(1);
    primary.truncateNext(1);
    await ask(client, 'two');
    const calls = primary.calls;
    assert.equal(calls.length, 4);
    const sum = (key: 'promptTokens' | 'completionTokens') => calls.reduce((total, c) => total + c[key], 0);
    assert.equal(
      await metric(registry, 'llm_tokens_total', { endpoint: 'primary', direction: 'prompt' }),
      sum('promptTokens'),
    );
    assert.equal(
      await metric(registry, 'llm_tokens_total', { endpoint: 'primary', direction: 'completion' }),
      sum('completionTokens'),
    );
    assert.equal(await metric(registry, 'llm_tokens_per_second_count', { endpoint: 'primary' }), 4);
    assert.equal(await metric(registry, 'llm_request_duration_seconds_count', { outcome: 'success' }), 2);
    assert.equal(
      await metric(registry, 'llm_request_duration_seconds_count', { outcome: 'invalid_output' }),
      2,
    );
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'invalid_json' }), 1);
    assert.equal(await metric(registry, 'llm_errors_total', { class: 'truncated' }), 1);
    assert.equal(await metric(registry, 'llm_requests_in_flight'), 0);
    assert.equal(await metric(registry, 'llm_requests_waiting'), 0);
  });
});
