import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fallbackRecordSchema } from '@fleet/contracts';
import { type RawRecord } from '@fleet/kafka';
import { parseFallbackEntry, toFallbackRecord } from './fallback-record';
import { RedisRuntimeError } from './redis.errors';

const at = { id: 'r-1', queuedAt: new Date('2025-01-02T03:04:05.000Z') };

describe('toFallbackRecord', () => {
  it('keeps topic, key, value and every header as UTF-8 strings', () => {
    const record = toFallbackRecord(
      'chat.message.created.1',
      {
        key: Buffer.from('conversation-7'),
        value: Buffer.from('{"text":"olá"}'),
        headers: {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'x-event-id': Buffer.from('evt-1'),
          single: [Buffer.from('one')],
          absent: undefined,
        },
      },
      'broker down',
      at,
    );
    assert.deepEqual(record, {
      id: 'r-1',
      topic: 'chat.message.created.1',
      key: 'conversation-7',
      value: '{"text":"olá"}',
      headers: {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-event-id': 'evt-1',
        single: 'one',
      },
      queuedAt: '2025-01-02T03:04:05.000Z',
      reason: 'broker down',
    });
    assert.ok(fallbackRecordSchema.safeParse(record).success, 'matches the contract');
  });

  it('keeps a null key as null', () => {
    assert.equal(toFallbackRecord('t', { key: null, value: 'v', headers: {} }, 'r', at).key, null);
  });

  const unencodable: Array<[string, Omit<RawRecord, 'topic'>]> = [
    ['a null value (tombstone)', { key: 'k', value: null, headers: {} }],
    ['a value that is not UTF-8', { key: 'k', value: Buffer.from([0xff, 0xfe]), headers: {} }],
    ['a header with two values', { key: 'k', value: 'v', headers: { h: ['a', 'b'] } }],
  ];
  for (const [situation, record] of unencodable) {
    it(`when a record has ${situation}, it is refused with RECORD_NOT_ENCODABLE`, () => {
      assert.throws(
        () => toFallbackRecord('t', record, 'r', at),
        (error: unknown) => error instanceof RedisRuntimeError && error.code === 'RECORD_NOT_ENCODABLE',
      );
    });
  }
});

describe('parseFallbackEntry', () => {
  it('parses what toFallbackRecord wrote', () => {
    const record = toFallbackRecord('t', { key: 'k', value: 'v', headers: { a: 'b' } }, 'r', at);
    assert.deepEqual(parseFallbackEntry(JSON.stringify(record)), { ok: true, record });
  });

  it('when the entry is not JSON, says MALFORMED_JSON', () => {
    const parsed = parseFallbackEntry('{not json');
    assert.equal(parsed.ok, false);
    assert.equal(!parsed.ok && parsed.code, 'MALFORMED_JSON');
  });

  it('when the entry is JSON of the wrong shape, says SCHEMA_INVALID naming the fields', () => {
    const parsed = parseFallbackEntry(JSON.stringify({ id: 'x', topic: '', value: 3 }));
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.code, 'SCHEMA_INVALID');
    assert.match(parsed.reason, /topic/);
    assert.match(parsed.reason, /value/);
    assert.match(parsed.reason, /headers/);
  });
});
