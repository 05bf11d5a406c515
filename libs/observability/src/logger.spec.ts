import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger, type LoggerOptions } from './logger';

type Line = Record<string, unknown>;

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: Line[] = [];
  const logger = createLogger({
    serviceName: 'test-svc',
    destination: { write: (line) => void lines.push(JSON.parse(line) as Line) },
    ...options,
  });
  return { logger, lines };
}

describe('createLogger', () => {
  // The SDK installs this context manager in a real app; without one, no span is ever "active".
  const contextManager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(contextManager.enable()));
  after(() => context.disable());

  test('every line is JSON with the service, a level name, an ISO time and the message', () => {
    const { logger, lines } = capture();
    logger.info({ orderId: 7 }, 'order placed');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line.service, 'test-svc');
    assert.equal(line.level, 'INFO');
    assert.equal(line.message, 'order placed');
    assert.equal(line.orderId, 7);
    assert.match(String(line.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('inside an active span, lines carry its trace_id and span_id; outside, they carry none', () => {
    const { logger, lines } = capture();
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    };
    context.with(trace.setSpanContext(context.active(), spanContext), () => logger.info('inside'));
    logger.info('outside');
    assert.equal(lines[0].trace_id, spanContext.traceId);
    assert.equal(lines[0].span_id, spanContext.spanId);
    assert.equal('trace_id' in lines[1], false);
  });

  test('when the active span context is invalid, no ids are written', () => {
    const { logger, lines } = capture();
    const invalid = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.NONE };
    context.with(trace.setSpanContext(context.active(), invalid), () => logger.info('inside'));
    assert.equal('trace_id' in lines[0], false);
  });

  test('secrets at the default paths are redacted, other fields are kept', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'p1',
        db: { password: 'p2', host: 'db' },
        token: 't1',
        headers: { authorization: 'Bearer x', cookie: 'sid=1', 'x-api-key': 'k1', accept: 'json' },
        req: { headers: { authorization: 'Bearer y' } },
        s3: { accessKey: 'ak', secretKey: 'sk' },
        webhook: { secret: 's1', apiKey: 'k2' },
      },
      'with secrets',
    );
    const line = lines[0];
    assert.doesNotMatch(JSON.stringify(line), /p1|p2|t1|Bearer|sid=1|k1|"ak"|"sk"|s1|k2/);
    assert.deepEqual(line.db, { password: '[REDACTED]', host: 'db' });
    assert.deepEqual(line.headers, {
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      accept: 'json',
    });
  });

  test('caller redact paths are added to the defaults', () => {
    const { logger, lines } = capture({ redactPaths: ['user.email'] });
    logger.info({ user: { email: 'a@b.c', id: 1 }, password: 'p' }, 'signup');
    assert.deepEqual(lines[0].user, { email: '[REDACTED]', id: 1 });
    assert.equal(lines[0].password, '[REDACTED]');
  });

  test('lines below the level are dropped, and child bindings appear on child lines', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('dropped');
    logger.child({ component: 'outbox' }).warn('kept');
    assert.deepEqual(
      lines.map((line) => [line.message, line.component]),
      [['kept', 'outbox']],
    );
  });

  test('errors logged under err are serialized with message and stack', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('boom') }, 'failed');
    const err = lines[0].err as Record<string, unknown>;
    assert.equal(err.message, 'boom');
    assert.match(String(err.stack), /Error: boom/);
  });
});
