import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Io } from './context';
import { runFleetctl } from './program';

interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
}

/** fleetctl against a scripted api: each answer by `METHOD path`, in order when several. */
function harness(answers: Record<string, Array<{ status: number; body: unknown }>>, io: Partial<Io> = {}) {
  const calls: Call[] = [];
  let stdout = '';
  let stderr = '';
  const fetch = (async (input: URL, init: RequestInit) => {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    calls.push({
      method: init.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: init.body === undefined ? undefined : JSON.parse(String(init.body)),
      authorization: headers.get('authorization'),
    });
    const queue = answers[`${init.method} ${url.pathname}`];
    const answer = queue?.length === 1 ? queue[0] : queue?.shift();
    if (!answer)
      return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no route' } }), {
        status: 404,
      });
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as typeof globalThis.fetch;
  const run = async (...argv: string[]) => {
    stdout = '';
    stderr = '';
    const code = await runFleetctl(argv, {
      env: { FLEET_TOKEN: 'token-1', FLEET_API_URL: 'http://api.test:8080' },
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      fetch,
      sleep: async () => undefined,
      ...io,
    });
    return { code, stdout, stderr };
  };
  return { run, calls };
}

const REDRIVE = {
  id: '9b1e5f7a-0000-4000-8000-000000000001',
  matched: 2,
  redriven: 0,
  skipped: 0,
  failed: 0,
};
const PREVIEW = { dryRun: true, matched: 2, byGroup: { 'message-router': 2 }, sample: [] };

describe('fleetctl', () => {
  test('--json prints the api answer as it came; the token and query go to the api', async () => {
    const page = { items: [], nextCursor: null, total: 0 };
    const { run, calls } = harness({ 'GET /v1/admin/dlq': [{ status: 200, body: page }] });
    const result = await run(
      '--json',
      'dlq',
      'ls',
      '--topic',
      't.1',
      '--group',
      'g',
      '--status',
      'DEAD',
      '--limit',
      '5',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), page);
    assert.deepEqual(calls, [
      {
        method: 'GET',
        path: '/v1/admin/dlq',
        query: { topic: 't.1', group: 'g', status: 'DEAD', limit: '5' },
        body: undefined,
        authorization: 'Bearer token-1',
      },
    ]);
  });

  test('dlq topics as an aligned table', async () => {
    const { run } = harness({
      'GET /v1/admin/dlq/topics': [
        {
          status: 200,
          body: {
            topics: [
              {
                topic: 'chat.message.outgoing.1',
                dlqTopic: 'chat.message.outgoing.1.dlq',
                counts: { DEAD: 12, REDRIVING: 0, REDRIVEN: 3, DISCARDED: 1, PARKED: 0 },
                groups: ['message-router'],
              },
            ],
          },
        },
      ],
    });
    const { code, stdout } = await run('dlq', 'topics');
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        'TOPIC                    DEAD  REDRIVING  REDRIVEN  DISCARDED  PARKED  GROUPS',
        'chat.message.outgoing.1    12          0         3          1       0  message-router',
        '',
      ].join('\n'),
    );
  });

  test('an api error: exit 1 with its code and message', async () => {
    const { run } = harness({
      'GET /v1/admin/audit': [
        { status: 403, body: { error: { code: 'FORBIDDEN', message: 'needs fleet:admin' } } },
      ],
    });
    const { code, stderr } = await run('audit', 'ls');
    assert.equal(code, 1);
    assert.equal(stderr, 'fleetctl: FORBIDDEN (HTTP 403): needs fleet:admin\n');
  });

  for (const argv of [
    ['dlq', 'ls', '--topic', 't', '--bogus'],
    ['dlq', 'ls'],
    ['dlq', 'ls', '--topic', 't', '--status', 'ALIVE'],
    ['dlq'],
    ['nonsense'],
    ['dlq', 'discard', '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd'],
    ['dlq', 'redrive'],
    ['breaker', 'open', 'kafka-producer'],
  ]) {
    test(`usage: fleetctl ${argv.join(' ')} exits 2 without calling the api`, async () => {
      const { run, calls } = harness({});
      const { code, stderr } = await run(...argv);
      assert.equal(code, 2, stderr);
      assert.ok(stderr.length > 0, 'says why');
      assert.deepEqual(calls, []);
    });
  }

  test('without a token: exit 2 naming --token and FLEET_TOKEN', async () => {
    const { run, calls } = harness({}, { env: {} });
    const { code, stderr } = await run('dlq', 'topics');
    assert.equal(code, 2);
    assert.match(stderr, /--token or set FLEET_TOKEN/);
    assert.deepEqual(calls, []);
  });

  test('--help exits 0', async () => {
    const { run } = harness({});
    const { code, stdout } = await run('dlq', 'redrive', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /--dry-run/);
  });

  test('redrive --dry-run only asks for the count', async () => {
    const { run, calls } = harness({ 'POST /v1/admin/dlq/redrive': [{ status: 200, body: PREVIEW }] });
    const { code, stdout } = await run(
      'dlq',
      'redrive',
      '--filter',
      'topic=t.1',
      '--filter',
      'group=message-router',
      '--dry-run',
    );
    assert.equal(code, 0);
    assert.equal(stdout, 'dry run: 2 dead letters would be redriven\n  message-router: 2\n');
    assert.deepEqual(
      calls.map((c) => c.body),
      [{ filter: { topic: 't.1', group: 'message-router' }, dryRun: true }],
    );
  });

  test('redrive without --yes and no terminal to ask on: exit 2 after the dry run, nothing redriven', async () => {
    const { run, calls } = harness({ 'POST /v1/admin/dlq/redrive': [{ status: 200, body: PREVIEW }] });
    const { code, stderr } = await run('dlq', 'redrive', '--filter', 'topic=t.1');
    assert.equal(code, 2);
    assert.match(stderr, /pass --yes/);
    assert.equal(calls.length, 1, 'only the dry run');
  });

  test('redrive declined at the prompt: nothing redriven', async () => {
    const asked: string[] = [];
    const { run, calls } = harness(
      { 'POST /v1/admin/dlq/redrive': [{ status: 200, body: PREVIEW }] },
      { confirm: async (question) => (asked.push(question), false) },
    );
    const { code } = await run('dlq', 'redrive', '--filter', 'topic=t.1');
    assert.equal(code, 0);
    assert.deepEqual(asked, ['Redrive 2 (every DEAD record matching topic=t.1)? [y/N] ']);
    assert.equal(calls.length, 1);
  });

  test('redrive --yes: dry run, then the redrive at the given rate, polled until it finishes', async () => {
    const { run, calls } = harness({
      'POST /v1/admin/dlq/redrive': [
        { status: 200, body: PREVIEW },
        { status: 202, body: { ...REDRIVE, status: 'RUNNING' } },
      ],
      [`GET /v1/admin/dlq/redrives/${REDRIVE.id}`]: [
        { status: 200, body: { ...REDRIVE, status: 'RUNNING', redriven: 1 } },
        { status: 200, body: { ...REDRIVE, status: 'COMPLETED', redriven: 2 } },
      ],
    });
    const { code, stdout } = await run('dlq', 'redrive', '--filter', 'topic=t.1', '--rate', '50', '--yes');
    assert.equal(code, 0);
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.body ?? null)}`),
      [
        'POST /v1/admin/dlq/redrive {"filter":{"topic":"t.1"},"dryRun":true}',
        'POST /v1/admin/dlq/redrive {"filter":{"topic":"t.1"},"ratePerSecond":50}',
        `GET /v1/admin/dlq/redrives/${REDRIVE.id} null`,
        `GET /v1/admin/dlq/redrives/${REDRIVE.id} null`,
      ],
    );
    assert.match(
      stdout,
      new RegExp(`redrive ${REDRIVE.id} COMPLETED: 2 redriven, 0 skipped, 0 failed of 2\\n$`),
    );
  });

  test('a redrive that ends FAILED exits 1 with its error', async () => {
    const { run } = harness({
      'POST /v1/admin/dlq/redrive': [
        { status: 200, body: PREVIEW },
        { status: 202, body: { ...REDRIVE, status: 'FAILED', error: 'broker gone' } },
      ],
    });
    const { code, stderr } = await run('dlq', 'redrive', '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd', '--yes');
    assert.equal(code, 1);
    assert.match(stderr, /REDRIVE_FAILED.*broker gone/);
  });

  test('discard by id sends the reason; breaker open sends its reason', async () => {
    const { run, calls } = harness({
      'POST /v1/admin/dlq/discard': [{ status: 200, body: { discarded: 1 } }],
      'POST /v1/admin/breakers/kafka-producer/open': [
        {
          status: 200,
          body: {
            breaker: 'kafka-producer',
            action: 'open',
            commandId: 'c-1',
            override: null,
            applied: [{ app: 'api', replica: 'vm:1', state: 'open' }],
            pending: [{ app: 'outbox-poller', replica: 'vm:2', state: 'closed' }],
            complete: false,
            waitedMs: 2000,
          },
        },
      ],
    });
    assert.equal(
      (await run('dlq', 'discard', '3f2c1a9e-8b7d-4c6e-9f01-23456789abcd', '--reason', ' poison ')).stdout,
      '1 discarded\n',
    );
    const opened = await run('breaker', 'open', 'kafka-producer', '--reason', 'broker maintenance');
    assert.equal(opened.code, 0);
    assert.equal(
      opened.stdout,
      'breaker kafka-producer: open applied on 1 of 2 replicas in 2000 ms\n  not yet: outbox-poller vm:2 (closed)\n',
    );
    assert.deepEqual(
      calls.map((c) => c.body),
      [{ ids: ['3f2c1a9e-8b7d-4c6e-9f01-23456789abcd'], reason: 'poison' }, { reason: 'broker maintenance' }],
    );
  });
});
