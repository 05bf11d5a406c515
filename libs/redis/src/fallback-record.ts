import { fallbackRecordSchema, type FallbackRecord } from '@fleet/contracts';
import { type RawRecord } from '@fleet/kafka';
import { RedisRuntimeError } from './redis.errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asUtf8(what: string, value: Buffer | string): string {
  if (typeof value === 'string') return value;
  try {
    return utf8.decode(value);
  } catch (error) {
    throw new RedisRuntimeError('RECORD_NOT_ENCODABLE', `${what} is not valid UTF-8`, { cause: error });
  }
}

/**
 * The fallback record for one encoded Kafka record, byte-for-byte what would have been sent.
 * @throws {@link RedisRuntimeError} `RECORD_NOT_ENCODABLE` when that cannot be kept exactly: a null
 *   value (a tombstone has no fallback form), non-UTF-8 bytes, or a header with several values.
 */
export function toFallbackRecord(
  topic: string,
  record: Omit<RawRecord, 'topic'>,
  reason: string,
  { id, queuedAt }: { id: string; queuedAt: Date },
): FallbackRecord {
  if (record.value === null) {
    throw new RedisRuntimeError('RECORD_NOT_ENCODABLE', `a record for ${topic} has a null value`);
  }
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record.headers)) {
    if (raw === undefined) continue;
    if (Array.isArray(raw)) {
      if (raw.length !== 1) {
        throw new RedisRuntimeError(
          'RECORD_NOT_ENCODABLE',
          `header ${name} of a record for ${topic} has ${raw.length} values; fallback records keep one`,
        );
      }
      headers[name] = asUtf8(`header ${name}`, raw[0]!);
    } else {
      headers[name] = asUtf8(`header ${name}`, raw);
    }
  }
  return {
    id,
    topic,
    key: record.key === null ? null : asUtf8('key', record.key),
    value: asUtf8('value', record.value),
    headers,
    queuedAt: queuedAt.toISOString(),
    reason,
  };
}

/** Why a list entry is not a fallback record. */
export type FallbackEntryDefect = 'MALFORMED_JSON' | 'SCHEMA_INVALID';

export type ParsedFallbackEntry =
  { ok: true; record: FallbackRecord } | { ok: false; code: FallbackEntryDefect; reason: string };

/** Parses one raw list entry; never throws (a bad entry is data, not a bug). */
export function parseFallbackEntry(raw: string): ParsedFallbackEntry {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return {
      ok: false,
      code: 'MALFORMED_JSON',
      reason: error instanceof Error ? error.message : String(error),
    };
  }
  const parsed = fallbackRecordSchema.safeParse(json);
  if (parsed.success) return { ok: true, record: parsed.data };
  return {
    ok: false,
    code: 'SCHEMA_INVALID',
    reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
  };
}
