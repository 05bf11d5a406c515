/**
 * Issue 18's traces through the whole fleet, read back from Jaeger's query API: a chat message
 * (api → outbox → Kafka → message-router → channel, its first channel call failing so that it is
 * retried) and a story enhancement job (api → outbox → Kafka → generation → LLM, its first LLM
 * call failing) each make ONE trace whose every span but the root has its parent in it, retries
 * included; a message the channel refuses ends in the DLQ with a `traceparent` that leads to its
 * trace; and the JSON log lines of every hop carry the trace id and the fields operators search by.
 *
 * Seed 004's mandatory log fields under its names (`timestamp` ISO 8601, `level` in capitals,
 * `service`, `trace_id`, `message`), as the fleet's pino logger (`@fleet/observability`) writes
 * them; ids in camelCase (`userId`, `messageId`, `conversationId`, or the Kafka `key` and
 * `eventId`) rather than `user_id`, `message_id`, `conversation_id`. A hop's line for a message it
 * handled without trouble is at DEBUG.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  chatMessageOutgoing,
  dlqTopicOf,
  FleetHeaders,
  generationJobRequested,
  inNamespace,
} from '@fleet/contracts';
import { createKafkaClient } from '@fleet/kafka';
import { captureLogger, collectMessages, waitFor } from '@fleet/kafka/testing';
import { FakeLlmServer } from '@fleet/llm/testing';
import { type JaegerSpan, type JaegerTrace } from '@fleet/observability/testing';
import { type AppProcess } from '@fleet/service-kit/testing';
import { BROKERS, call, createConversations, startChatFleet, type ChatFleet } from '../chat/harness';

const OTLP = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const JAEGER = process.env.JAEGER_QUERY_URL ?? 'http://127.0.0.1:16686';

/** The seed's mandatory fields, under the seed's names. */
const MANDATORY_LOG_FIELDS = {
  timestamp: 'timestamp',
  level: 'level',
  service: 'service',
  trace_id: 'trace_id',
  message: 'message',
};

/** One trace as the test looks at it: spans with their service, parents resolved. */
interface Trace {
  id: string;
  spans: Array<JaegerSpan & { service: string }>;
  services: Set<string>;
  /** Spans other than the root whose parent is not in the trace (a broken hop). */
  orphans: string[];
  /** Spans without any parent reference. */
  roots: string[];
}

async function jaeger<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${JAEGER}${path}`);
  if (response.status === 404) return undefined;
  assert.ok(response.ok, `GET ${path}: HTTP ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}

const tagOf = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const describeSpan = (span: JaegerSpan & { service: string }) => `${span.service}: ${span.operationName}`;

function toTrace(raw: JaegerTrace): Trace {
  const spans = raw.spans.map((s) => ({ ...s, service: raw.processes[s.processID]?.serviceName ?? '?' }));
  const ids = new Set(spans.map((s) => s.spanID));
  const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF');
  return {
    id: raw.traceID,
    spans,
    services: new Set(spans.map((s) => s.service)),
    orphans: spans
      .filter((s) => parentOf(s) && (parentOf(s)!.traceID !== raw.traceID || !ids.has(parentOf(s)!.spanID)))
      .map(describeSpan),
    roots: spans.filter((s) => !parentOf(s)).map(describeSpan),
  };
}

/**
 * The trace once `complete` holds and no span arrived for five polls in a row: apps export in
 * batches (OTEL_BSP_SCHEDULE_DELAY below), so a child may reach Jaeger before its parent.
 */
async function settledTrace(traceId: string, complete: (trace: Trace) => boolean): Promise<Trace> {
  let last: Trace | undefined;
  let stableFor = 0;
  try {
    return await waitFor(
      `trace ${traceId} complete and settled in Jaeger`,
      async () => {
        const raw = await jaeger<JaegerTrace[]>(`/api/traces/${traceId}`);
        const trace = raw?.[0] && toTrace(raw[0]);
        stableFor = trace && last && trace.spans.length === last.spans.length ? stableFor + 1 : 0;
        last = trace;
        // Each poll is 200 ms apart plus the request: ~1.5 s of quiet, three export periods.
        return trace && complete(trace) && stableFor >= 5 ? trace : undefined;
      },
      60_000,
    );
  } catch (error) {
    const seen = last ? last.spans.map(describeSpan).join('\n  ') : '(not in Jaeger)';
    throw new Error(`${(error as Error).message}; orphans: ${last?.orphans.join(', ')}; spans:\n  ${seen}`);
  }
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`). */
function traceIdOf(traceparent: string | undefined): string {
  const match = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '');
  assert.ok(match, `a W3C traceparent, got ${traceparent}`);
  return match[1]!;
}

/** The `traceparent` the api stored with an outbox row (what the poller continues the trace from). */
async function outboxTraceparent(
  fleet: ChatFleet,
  where: string,
  value: string,
): Promise<string | undefined> {
  const rows: Array<{ traceparent: string | null }> = await fleet.db.dataSource.query(
    `SELECT headers->>'traceparent' AS traceparent FROM outbox_events WHERE ${where} = $1 ORDER BY seq LIMIT 1`,
    [value],
  );
  return rows[0]?.traceparent ?? undefined;
}

type LogLine = Record<string, unknown> & { app: string };

function logsOf(apps: readonly AppProcess[]): LogLine[] {
  return apps.flatMap((app) => app.logs().map((line) => ({ ...line, app: app.app })));
}

/** Every field of seed 004 present; `trace_id` the trace's. */
function assertMandatoryFields(line: LogLine, traceId: string): void {
  for (const [seedName, ourName] of Object.entries(MANDATORY_LOG_FIELDS)) {
    assert.ok(
      line[ourName] !== undefined && line[ourName] !== '',
      `${seedName} (as ${ourName}) in ${JSON.stringify(line)}`,
    );
  }
  assert.ok(!Number.isNaN(Date.parse(String(line.timestamp))), `an ISO timestamp: ${String(line.timestamp)}`);
  assert.match(String(line.level), /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)$/);
  assert.equal(line.service, line.app, 'service is the app');
  assert.equal(line.trace_id, traceId, `trace_id of ${JSON.stringify(line)}`);
}

/**
 * The consumer spans of one attempt: the router's on the outgoing topic (its confirmations group
 * consumes the message's status updates in the same trace), the generation worker's on its requests.
 */
const routing = (fleet: ChatFleet) => `${inNamespace(chatMessageOutgoing, fleet.namespace).name} process`;
const jobRequests = (fleet: ChatFleet) =>
  `${inNamespace(generationJobRequested, fleet.namespace).name} process`;

/** The attempt numbers of `service`'s consumer spans named `operation` in the trace. */
const attemptsOf = (t: Trace, service: string, operation: string) =>
  t.spans
    .filter((s) => s.service === service && s.operationName === operation)
    .map((s) => tagOf(s, 'messaging.fleet.attempt'));

/** The generation worker's lines on a job's attempts, in the order they must come. */
const JOB_ATTEMPT_LINES = ['job started', 'attempt failed; the job will be retried', 'job completed'];

const summary = (lines: readonly LogLine[]) => lines.map((l) => `${l.app}: ${String(l.message)}`).join('; ');

describe('fleet traces in Jaeger: api, outbox-poller, message-router and generation (fake channel and LLM)', () => {
  let fleet: ChatFleet;
  let llm: FakeLlmServer;
  before(async () => {
    // No Jaeger is a setup error, not an empty trace.
    const up = await fetch(`${JAEGER}/api/services`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up)
      throw new Error(`setup: Jaeger's query API is not reachable at ${JAEGER} (bash tools/infra up jaeger)`);
    llm = await FakeLlmServer.start({ models: ['fake-7b-instruct'], tokensPerSecond: 200 });
    fleet = await startChatFleet({
      routers: 1,
      generation: 1,
      llm: { endpoint: llm.url, model: 'fake-7b-instruct' },
      env: {
        OTEL_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: OTLP,
        // The SDK's own batch delay (5 s by default), read from its standard variable.
        OTEL_BSP_SCHEDULE_DELAY: '300',
        // Each hop's line for a message it handled is at debug (nothing is logged at info for a good one).
        LOG_LEVEL: 'debug',
        // One failed LLM call is one failed attempt (no retry inside the client), retried soon.
        LLM_UNAVAILABLE_RETRIES: '0',
        GENERATION_RETRY_INITIAL_BACKOFF_MS: '200',
      },
      routerEnv: { ROUTER_RETRY_INITIAL_BACKOFF_MS: '200' },
    });
  });
  after(async () => {
    await fleet?.stop();
    await llm?.stop();
  });

  test('a chat message whose first channel call fails: one trace from the api through the poller to both router attempts, every parent in it, its log lines carrying it', async () => {
    const userPrefix = `trace-${randomUUID().slice(0, 8)}`;
    const owner = `${userPrefix}-0`; // createConversations' owner of conversation 0
    const [conversation] = await createConversations(fleet, { count: 1, userPrefix, phonePrefix: '1556' });
    const text = `traced ${randomUUID()}`;
    fleet.fake.script({ match: (c) => c.text === text, responses: [{ status: 503 }] });
    const sent = await call<{ id: string }>(
      `${fleet.apiUrl}/v1/conversations/${conversation!.id}/messages`,
      conversation!.token,
      { method: 'POST', headers: { 'idempotency-key': randomUUID() }, body: { text } },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const messageId = sent.body.id;
    await waitFor(
      'the message DELIVERED in the api',
      async () =>
        (
          await call<{ status: string }>(
            `${fleet.apiUrl}/v1/conversations/${conversation!.id}/messages/${messageId}`,
            conversation!.token,
          )
        ).body.status === 'DELIVERED',
      60_000,
    );
    const calls = fleet.fake.callsFor('whatsapp', (c) => c.messageId === messageId).map((c) => c.status);
    assert.deepEqual(calls, [503, 200], 'the first call failed, the retry went through');

    const traceId = traceIdOf(await outboxTraceparent(fleet, 'id', messageId));
    const routerAttempts = (t: Trace) => attemptsOf(t, 'message-router', routing(fleet));
    const trace = await settledTrace(
      traceId,
      (t) =>
        ['api', 'outbox-poller', 'message-router'].every((s) => t.services.has(s)) &&
        routerAttempts(t).length >= 2 &&
        t.orphans.length === 0,
    );
    assert.deepEqual(trace.orphans, [], 'every span but the root has its parent in the trace');
    assert.equal(trace.roots.length, 1, `one root: ${trace.roots.join(', ')}`);
    assert.match(trace.roots[0]!, /^api: /, 'the trace starts at the api');
    assert.deepEqual(routerAttempts(trace).sort(), [1, 2], 'both attempts are spans of this trace');
    const sends = trace.spans.filter((s) => s.operationName === 'whatsapp send');
    assert.equal(sends.length, 2, 'both channel calls are spans of this trace');
    assert.ok(
      sends.some((s) => tagOf(s, 'otel.status_code') === 'ERROR'),
      'the failed call is marked as an error',
    );

    // Wherever Jaeger finds this message (the poller's publish, the router's calls), it is this trace.
    for (const service of ['outbox-poller', 'message-router']) {
      const tags = encodeURIComponent(JSON.stringify({ 'messaging.message.id': messageId }));
      const found = await jaeger<JaegerTrace[]>(
        `/api/traces?service=${service}&tags=${tags}&lookback=1h&limit=50`,
      );
      assert.deepEqual([...new Set((found ?? []).map((t) => t.traceID))], [traceId], `${service}'s spans`);
    }

    // The log lines: each hop wrote its own under the trace, with the seed's fields and the ids it knows.
    const all = logsOf([fleet.api, fleet.poller, ...fleet.routers]);
    const lines = all.filter((line) => line.trace_id === traceId);
    for (const line of lines) assertMandatoryFields(line, traceId);
    const hop = (app: string, msg: string) =>
      lines.find(
        (l) => l.app === app && l.message === msg && (app === 'api' || JSON.stringify(l).includes(messageId)),
      );
    const seen = `the trace's lines: ${summary(lines)}`;
    const request = hop('api', 'request handled');
    assert.ok(request, `the api's line; ${seen}`);
    assert.equal(request.userId, owner, 'the api names the user');
    assert.deepEqual(request.params, { id: conversation!.id }, 'and the conversation');
    const published = hop('outbox-poller', 'outbox event published');
    assert.ok(published, `the poller's line, naming the message; ${seen}`);
    assert.equal(published.key, conversation!.id);
    const failedCall = hop('message-router', 'channel call failed; will retry');
    assert.ok(failedCall, `the router's line on the failed call; ${seen}`);
    assert.deepEqual(
      [failedCall.messageId, failedCall.conversationId, failedCall.attempt],
      [messageId, conversation!.id, 1],
    );
    const handled = hop('message-router', 'message handled');
    assert.ok(handled, `the router's line on the retry that went through; ${seen}`);
    assert.deepEqual([handled.key, handled.attempt], [conversation!.id, 2]);
    // Lines about the message elsewhere (the channel's webhooks start traces of their own) still lead to one.
    for (const line of all.filter((l) => JSON.stringify(l).includes(messageId))) {
      assert.match(String(line.trace_id), /^[0-9a-f]{32}$/, `a trace id on ${JSON.stringify(line)}`);
    }
    console.log(
      `chat trace ${traceId}: ${trace.spans.length} spans from ${[...trace.services].sort().join(', ')}; ` +
        `${lines.length} log lines`,
    );
  });

  test('a story enhancement whose first LLM call fails: one trace from the api through the poller to both generation attempts', async () => {
    const owner = `trace-reader-${randomUUID().slice(0, 8)}`;
    const token = await fleet.token(owner);
    llm.failNext(1, 503);
    const created = await call<{ jobId: string }>(`${fleet.apiUrl}/v1/stories`, token, {
      method: 'POST',
      body: { title: 'Tracing a job', content: 'A story whose enhancement is traced across the fleet.' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { jobId } = created.body;
    const job = await waitFor(
      'the job COMPLETED',
      async () => {
        const view = await call<{ status: string; attempts: number }>(
          `${fleet.apiUrl}/v1/jobs/${jobId}`,
          token,
        );
        return view.body.status === 'COMPLETED' || view.body.status === 'FAILED' ? view.body : undefined;
      },
      90_000,
    );
    assert.equal(job.status, 'COMPLETED', JSON.stringify(job));
    assert.equal(job.attempts, 2, 'the first attempt failed, the second completed');

    const traceId = traceIdOf(await outboxTraceparent(fleet, 'aggregate_key', jobId));
    const attempts = (t: Trace) => attemptsOf(t, 'generation', jobRequests(fleet));
    const trace = await settledTrace(
      traceId,
      (t) =>
        ['api', 'outbox-poller', 'generation'].every((s) => t.services.has(s)) &&
        attempts(t).length >= 2 &&
        t.spans.filter((s) => s.operationName === 'chat fake-7b-instruct').length >= 2 &&
        t.orphans.length === 0,
    );
    assert.deepEqual(trace.orphans, [], 'every span but the root has its parent in the trace');
    assert.equal(trace.roots.length, 1, `one root: ${trace.roots.join(', ')}`);
    assert.match(trace.roots[0]!, /^api: /, 'the trace starts at the api');
    assert.deepEqual(attempts(trace).sort(), [1, 2], 'both attempts are spans of this trace');
    // The worker's own hop: one LLM call per attempt, the first answered 503.
    const llmCalls = trace.spans.filter(
      (s) => s.service === 'generation' && s.operationName === 'chat fake-7b-instruct',
    );
    assert.deepEqual(
      llmCalls.map((s) => tagOf(s, 'http.response.status_code') ?? 200).sort(),
      [200, 503],
      'both LLM calls are spans of this trace, the failed one with its status',
    );
    assert.equal(
      tagOf(
        llmCalls.find((s) => tagOf(s, 'http.response.status_code') === 503)!,
        'otel.status_code',
      ),
      'ERROR',
    );

    const lines = logsOf([fleet.api, fleet.poller, ...fleet.generation]).filter(
      (l) => l.trace_id === traceId,
    );
    for (const line of lines) assertMandatoryFields(line, traceId);
    const seen = `the trace's lines: ${summary(lines)}`;
    const request = lines.find((l) => l.app === 'api' && l.message === 'request handled');
    assert.ok(request, `the api's line; ${seen}`);
    assert.deepEqual([request.route, request.userId], ['/v1/stories', owner]);
    assert.ok(
      lines.some(
        (l) => l.app === 'outbox-poller' && l.message === 'outbox event published' && l.key === jobId,
      ),
      `the poller's line, naming the job; ${seen}`,
    );
    const attemptLines = lines.filter(
      (l) => l.app === 'generation' && l.jobId === jobId && JOB_ATTEMPT_LINES.includes(String(l.message)),
    );
    assert.deepEqual(
      attemptLines.map((l) => [l.message, l.attempt]),
      [
        ['job started', 1],
        ['attempt failed; the job will be retried', 1],
        ['job started', 2],
        ['job completed', 2],
      ],
      `each attempt logged under the trace, with the job id; ${seen}`,
    );
    console.log(
      `job trace ${traceId}: ${trace.spans.length} spans from ${[...trace.services].sort().join(', ')}; ` +
        `${lines.length} log lines`,
    );
  });

  test("a message the channel refuses: its DLQ record's traceparent leads to its trace in Jaeger, where the router's attempt is", async () => {
    const [conversation] = await createConversations(fleet, {
      count: 1,
      userPrefix: `trace-dlq-${randomUUID().slice(0, 8)}`,
      phonePrefix: '1557',
    });
    const text = `refused ${randomUUID()}`;
    fleet.fake.script({ match: (c) => c.text === text, responses: [{ status: 400 }] });
    const sent = await call<{ id: string }>(
      `${fleet.apiUrl}/v1/conversations/${conversation!.id}/messages`,
      conversation!.token,
      { method: 'POST', headers: { 'idempotency-key': randomUUID() }, body: { text } },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const messageId = sent.body.id;

    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'e2e-trace-dlq',
      logger: captureLogger(),
    });
    const dlq = dlqTopicOf(inNamespace(chatMessageOutgoing, fleet.namespace).name);
    const records = await collectMessages(kafka, dlq, { count: 1, timeoutMs: 60_000 });
    const record = records.find((r) => r.headers[FleetHeaders.eventId] === messageId);
    assert.ok(record, `the message in ${dlq}; found ${records.length} records`);
    assert.equal(record.headers[FleetHeaders.dlqReason], 'NON_RETRIABLE');
    const traceId = traceIdOf(record.headers[FleetHeaders.traceparent]);
    assert.equal(traceId, traceIdOf(await outboxTraceparent(fleet, 'id', messageId)), 'the api’s trace');

    const trace = await settledTrace(
      traceId,
      (t) =>
        t.spans.some((s) => s.service === 'message-router' && s.operationName === routing(fleet)) &&
        t.orphans.length === 0,
    );
    const attempt = trace.spans.find(
      (s) => s.service === 'message-router' && s.operationName === routing(fleet),
    )!;
    assert.equal(tagOf(attempt, 'otel.status_code'), 'ERROR', 'the refused attempt is an error span');
    assert.deepEqual(trace.orphans, [], 'every span but the root has its parent in the trace');
    const deadLettered = fleet.routers
      .flatMap((r) => r.logs())
      .find((l) => l.message === 'message dead-lettered' && l.trace_id === traceId);
    assert.ok(deadLettered, 'the router logged the dead-lettering under the trace');
  });
});
