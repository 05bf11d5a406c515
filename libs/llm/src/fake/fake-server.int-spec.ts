import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { z } from 'zod';
import { strictJsonSchema } from '../json-schema';
import { FakeLlmServer } from '../testing';

const Story = z.object({
  hypeScore: z.number().min(0).max(10),
  ethicsScore: z.number().min(0).max(10),
  realityCheck: z.string().min(10).max(300),
  eli5Summary: z.string().min(10).max(300),
});

interface Completion {
  model: string;
  choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function chatBody(text: string, extra: Record<string, unknown> = {}) {
  return {
    model: 'fake-model',
    messages: [
      { role: 'system', content: 'Score the story.' },
      { role: 'user', content: text },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'story_enhancement', strict: true, schema: strictJsonSchema(Story) },
    },
    ...extra,
  };
}

async function chat(
  server: FakeLlmServer,
  body: unknown,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Completion & { error?: { message: string; type: string } } }> {
  const response = await fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
    signal: init.signal,
  });
  return {
    status: response.status,
    body: (await response.json()) as Completion & { error?: { message: string; type: string } },
  };
}

let fake: FakeLlmServer;
before(async () => {
  fake = await FakeLlmServer.start({ tokensPerSecond: 2_000 });
});
afterEach(() => fake.reset());
after(async () => {
  await fake.stop();
});

describe('OpenAI-compatible surface', () => {
  test('GET /v1/models lists the configured models in the OpenAI list shape', async () => {
    const response = await fetch(`${fake.url}/models`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      object: 'list',
      data: [{ id: 'fake-model', object: 'model', owned_by: 'organization_owner' }],
    });
    assert.equal(fake.modelRequests, 1);
  });

  test('a chat completion with a JSON schema answers a schema-valid object with usage, deterministically', async () => {
    const first = await chat(fake, chatBody('A startup claims its AI cures boredom.'));
    assert.equal(first.status, 200);
    const [choice] = first.body.choices;
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.role, 'assistant');
    const value: unknown = JSON.parse(choice.message.content);
    assert.ok(Story.safeParse(value).success, choice.message.content);
    assert.equal(first.body.model, 'fake-model');
    const { usage } = first.body;
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.equal(usage.completion_tokens, Math.ceil(choice.message.content.length / 4));

    const again = await chat(fake, chatBody('A startup claims its AI cures boredom.'));
    assert.equal(again.body.choices[0].message.content, choice.message.content);
    const other = await chat(fake, chatBody('A different story about quantum toasters.'));
    assert.notEqual(other.body.choices[0].message.content, choice.message.content);

    const [call] = fake.calls;
    assert.deepEqual(
      [call.seq, call.model, call.responseFormat, call.schemaName, call.strict, call.status, call.outcome],
      [1, 'fake-model', 'json_schema', 'story_enhancement', true, 200, 'ok'],
    );
  });

  test('an unknown model is 404 model_not_found, a body without messages 400, an unknown path 404', async () => {
    const unknown = await chat(fake, { ...chatBody('x'), model: 'gpt-17' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error?.type, 'model_not_found');
    const noMessages = await chat(fake, { model: 'fake-model', messages: [] });
    assert.equal(noMessages.status, 400);
    assert.equal((await fetch(`${fake.origin}/v1/embeddings`, { method: 'POST', body: '{}' })).status, 404);
    assert.deepEqual(
      fake.calls.map((c) => c.outcome),
      ['rejected', 'rejected'],
    );
  });

  test('with an API key configured, requests without the right bearer token get 401', async () => {
    const keyed = await FakeLlmServer.start({ apiKey: 'sk-fake', tokensPerSecond: 2_000 });
    try {
      assert.equal((await fetch(`${keyed.url}/models`)).status, 401);
      assert.equal(
        (await chat(keyed, chatBody('x'), { headers: { authorization: 'Bearer wrong' } })).status,
        401,
      );
      assert.equal(
        (await chat(keyed, chatBody('x'), { headers: { authorization: 'Bearer sk-fake' } })).status,
        200,
      );
    } finally {
      await keyed.stop();
    }
  });

  test('max_tokens below the answer cuts it with finish_reason length', async () => {
    const { body } = await chat(fake, chatBody('x', { max_tokens: 5 }));
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.equal(body.usage.completion_tokens, 5);
    assert.equal(body.choices[0].message.content.length, 20);
    assert.equal(fake.calls[0].outcome, 'truncated');
  });

  test('a responder decides the content: strings verbatim, other values as JSON', async () => {
    fake.setResponder((request) =>
      request.seq === 1 ? 'plain words' : { echo: (request.messages[1] as { content: string }).content },
    );
    assert.equal((await chat(fake, chatBody('one'))).body.choices[0].message.content, 'plain words');
    assert.equal((await chat(fake, chatBody('two'))).body.choices[0].message.content, '{"echo":"two"}');
  });
});

describe('one simulated GPU', () => {
  test('requests are served one at a time in arrival order, each taking completionTokens / tokensPerSecond', async () => {
    fake.setSpeed({ tokensPerSecond: 100 });
    fake.setCompletionTokens(20); // 200 ms each
    const started = Date.now();
    const answers = await Promise.all([0, 1, 2].map((n) => chat(fake, chatBody(`story ${n}`))));
    const elapsed = Date.now() - started;
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(elapsed >= 590, `three 200 ms generations took ${elapsed} ms: they overlapped`);
    const calls = fake.calls;
    assert.equal(fake.maxOpenAtOnce, 3, 'all three were open at the fake at once');
    for (let i = 1; i < calls.length; i++) {
      const previous = calls[i - 1];
      const current = calls[i];
      assert.ok(
        (current.startedAt ?? 0) >= (previous.finishedAt ?? Infinity) - 1,
        `call ${current.seq} started before call ${previous.seq} finished`,
      );
      assert.ok((current.finishedAt ?? 0) - (current.startedAt ?? 0) >= 195);
    }
    const { totalMs, intervals, busyNow } = fake.busy;
    assert.equal(busyNow, false);
    assert.deepEqual(
      intervals.map((i) => [i.seq, i.kind]),
      [
        [1, 'generate'],
        [2, 'generate'],
        [3, 'generate'],
      ],
    );
    assert.ok(totalMs >= 590 && totalMs < 1_500, `busy ${totalMs} ms`);
    const window = { from: calls[0].receivedAt, to: calls[2].finishedAt ?? 0 };
    const fraction = fake.busyMsBetween(window.from, window.to) / (window.to - window.from);
    assert.ok(fraction > 0.9, `the GPU was busy ${fraction} of the time while requests were waiting`);
  });

  test('the first call of a model pays the model-load delay, later ones do not', async () => {
    fake.setSpeed({ modelLoadDelayMs: 300 });
    fake.setCompletionTokens(1);
    const t0 = Date.now();
    await chat(fake, chatBody('first'));
    const first = Date.now() - t0;
    const t1 = Date.now();
    await chat(fake, chatBody('second'));
    const second = Date.now() - t1;
    assert.ok(first >= 300, `first call took ${first} ms`);
    assert.ok(second < 250, `second call took ${second} ms`);
    assert.deepEqual(
      fake.busy.intervals.map((i) => [i.seq, i.kind]),
      [
        [1, 'load'],
        [1, 'generate'],
        [2, 'generate'],
      ],
    );
  });

  test('a hanging request holds the GPU until its client gives up; the next one is served after', async () => {
    fake.hangNext(1);
    const hung = chat(fake, chatBody('hang'), { signal: AbortSignal.timeout(300) });
    const next = chat(fake, chatBody('next'));
    await assert.rejects(hung, (error: unknown) => (error as Error).name === 'TimeoutError');
    const answer = await next;
    assert.equal(answer.status, 200);
    const [hangCall, nextCall] = fake.calls;
    assert.equal(hangCall.outcome, 'hung');
    assert.equal(hangCall.status, undefined);
    assert.ok((nextCall.startedAt ?? 0) >= (hangCall.finishedAt ?? Infinity) - 1);
    assert.equal(fake.busy.intervals[0].kind, 'hang');
  });
});

describe('faults', () => {
  test('failNext(2, 503) fails two requests at once, without GPU time, then serves again', async () => {
    fake.failNext(2, 503);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await chat(fake, chatBody('x'))).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.deepEqual(
      fake.calls.map((c) => [c.outcome, c.fault]),
      [
        ['failed', 'fail'],
        ['failed', 'fail'],
        ['ok', undefined],
      ],
    );
    assert.equal(fake.busy.intervals.length, 1);
  });

  test('failAlways keeps failing until recover()', async () => {
    fake.failAlways(500);
    for (let i = 0; i < 4; i++) assert.equal((await chat(fake, chatBody('x'))).status, 500);
    fake.recover();
    assert.equal((await chat(fake, chatBody('x'))).status, 200);
  });

  test('invalid JSON, wrong shape and truncation come in a valid OpenAI envelope', async () => {
    fake.invalidJsonNext(1);
    const invalid = await chat(fake, chatBody('x'));
    assert.throws(() => JSON.parse(invalid.body.choices[0].message.content) as unknown, SyntaxError);
    assert.equal(invalid.body.choices[0].finish_reason, 'stop');

    fake.mismatchNext(1);
    const mismatch = await chat(fake, chatBody('x'));
    assert.equal(Story.safeParse(JSON.parse(mismatch.body.choices[0].message.content)).success, false);

    fake.truncateNext(1);
    const truncated = await chat(fake, chatBody('x'));
    assert.equal(truncated.body.choices[0].finish_reason, 'length');

    const fine = await chat(fake, chatBody('x'));
    assert.ok(Story.safeParse(JSON.parse(fine.body.choices[0].message.content)).success);
    assert.deepEqual(
      fake.calls.map((c) => c.outcome),
      ['invalid_json', 'mismatch', 'truncated', 'ok'],
    );
  });

  test('reset forgets calls, faults, busy time and runtime settings', async () => {
    fake.failAlways();
    fake.setModels(['other']);
    await chat(fake, chatBody('x'));
    fake.reset();
    assert.deepEqual([fake.calls.length, fake.busy.intervals.length], [0, 0]);
    assert.equal((await chat(fake, chatBody('x'))).status, 200);
  });
});

describe('HTTP controls (for other processes)', () => {
  const control = async (path: string, body?: unknown) => {
    const response = await fetch(`${fake.origin}/_fake/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('POST /_fake/fault arms a fault, /_fake/recover disarms it, /_fake/calls and /_fake/busy report', async () => {
    assert.equal((await control('fault', { kind: 'fail', count: 'always', status: 503 })).status, 200);
    assert.equal((await chat(fake, chatBody('x'))).status, 503);
    assert.equal((await control('recover', {})).status, 200);
    assert.equal((await chat(fake, chatBody('x'))).status, 200);
    const calls = (await control('calls')).body.calls as Array<{ status: number }>;
    assert.deepEqual(
      calls.map((c) => c.status),
      [503, 200],
    );
    const busy = await control(`busy?from=0&to=${Date.now() + 1_000}`);
    assert.equal((busy.body.intervals as unknown[]).length, 1);
    assert.ok(((busy.body.window as { busyMs: number }).busyMs ?? 0) > 0);
  });

  test('POST /_fake/speed and /_fake/models change behaviour; bad bodies are 400 with the reason', async () => {
    assert.equal((await control('speed', { tokensPerSecond: 5, modelLoadDelayMs: 10 })).status, 200);
    assert.equal(fake.currentSpeed.tokensPerSecond, 5);
    assert.equal((await control('models', { models: ['qwen2.5-7b-instruct'] })).status, 200);
    const listed = (await (await fetch(`${fake.url}/models`)).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(
      listed.data.map((m) => m.id),
      ['qwen2.5-7b-instruct'],
    );
    const bad = await control('fault', { kind: 'explode' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /kind/);
    assert.equal((await control('nothing-here')).status, 404);
  });
});
