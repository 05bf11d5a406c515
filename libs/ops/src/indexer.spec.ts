import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetHeaders } from '@fleet/contracts';
import { type Sql } from '@fleet/db';
import { type KafkaClient, type TappedRecord } from '@fleet/kafka';
import { Registry } from 'prom-client';
import { DeadLetterIndexer, storableText } from './indexer';

/** What PostgreSQL refuses in `jsonb`: the escape of NUL, and lone surrogates. */
const REFUSED_BY_JSONB =
  /\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i;

function indexerWith(params: unknown[][]): DeadLetterIndexer {
  const sql: Sql = {
    rows: async <T>(_text: string, values: readonly unknown[] = []) => {
      params.push([...values]);
      return [] as T[];
    },
  };
  const kafka = { consumer: () => ({}) } as unknown as KafkaClient;
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  return new DeadLetterIndexer({
    kafka,
    sql,
    contracts: [],
    logger: logger as never,
    registry: new Registry(),
  });
}

const record = (over: Partial<TappedRecord>): TappedRecord => ({
  topic: 't.1.dlq',
  partition: 0,
  offset: '7',
  timestamp: Date.now(),
  key: null,
  value: Buffer.from('x'),
  headers: {},
  ...over,
});

test('a dead letter whose key, headers or error message hold NUL or a lone surrogate is indexed, those characters as U+FFFD', async () => {
  const params: unknown[][] = [];
  await indexerWith(params).index([
    record({
      key: Buffer.from([0x61, 0x00, 0x62]),
      headers: {
        [FleetHeaders.dlqReason]: 'SCHEMA_INVALID',
        [FleetHeaders.dlqErrorMessage]: 'Unrecognized key: "\ud800\u0000"',
        [FleetHeaders.eventId]: '\u0000',
        'x-\u0000name': 'v\u0000',
      },
    }),
  ]);
  const json = params[0]![0] as string;
  assert.doesNotMatch(json, REFUSED_BY_JSONB);
  const [row] = JSON.parse(json) as Array<Record<string, unknown>>;
  assert.equal(row!.key, 'a\ufffdb');
  assert.equal(row!.error_message, 'Unrecognized key: "\ufffd\ufffd"');
  assert.equal(row!.reason, 'SCHEMA_INVALID');
  assert.equal(row!.event_id, '\ufffd');
  assert.deepEqual((row!.headers as Record<string, string>)['x-\ufffdname'], 'v\ufffd');
});

test('a retry record with NUL in its last error is indexed too', async () => {
  const params: unknown[][] = [];
  await indexerWith(params).index([
    record({
      topic: 't.1.retry',
      headers: { [FleetHeaders.lastError]: 'E: \u0000', [FleetHeaders.retryGroup]: 'g' },
    }),
  ]);
  assert.doesNotMatch(params[0]![0] as string, REFUSED_BY_JSONB);
});

test('storableText keeps well-formed text, surrogate pairs included, as it is', () => {
  assert.equal(storableText('ok 😀 é'), 'ok 😀 é');
  assert.equal(storableText('\udc00\ud83d\ude00\ud83d'), '\ufffd😀\ufffd');
});
