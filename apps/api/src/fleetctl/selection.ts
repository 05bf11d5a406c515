import { UsageError } from './client';

/** What a redrive or discard acts on: dead letters by id, or every one matching a filter. */
export type Selection = { ids: string[] } | { filter: Record<string, string> };

/** `--filter` keys, as typed (kebab or camel case) → the api's field. */
const FILTER_KEYS: Readonly<Record<string, string>> = {
  topic: 'topic',
  group: 'group',
  reason: 'reason',
  errorCode: 'errorCode',
  'error-code': 'errorCode',
  key: 'key',
  eventId: 'eventId',
  'event-id': 'eventId',
  from: 'from',
  to: 'to',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RELATIVE = /^-(\d+)(s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time for `from` / `to`: an ISO 8601 date or time, or a moment relative to `now` (`-30m`,
 * `-2h`, `-7d`), as the api's ISO string.
 */
export function parseTime(value: string, name: string, now = new Date()): string {
  const relative = RELATIVE.exec(value.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!]!).toISOString();
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${name}: expected an ISO time (2026-12-07T15:00:00Z) or -30m, -2h, -7d; got "${value}"`,
    );
  }
  return date.toISOString();
}

/** `k=v` pairs of `--filter` as the api's filter object; `topic` is required. */
export function parseFilter(pairs: readonly string[], now = new Date()): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? FILTER_KEYS[pair.slice(0, at)] : undefined;
    if (!key) {
      const known = [...new Set(Object.values(FILTER_KEYS))].join(', ');
      throw new UsageError(`--filter ${pair}: expected key=value with key one of ${known}`);
    }
    const value = pair.slice(at + 1);
    if (value === '') throw new UsageError(`--filter ${pair}: empty value`);
    if (key in filter) throw new UsageError(`--filter: ${key} given twice`);
    filter[key] = key === 'from' || key === 'to' ? parseTime(value, `--filter ${key}`, now) : value;
  }
  if (!filter.topic) throw new UsageError('--filter needs topic=<topic> (a filter covers one topic)');
  return filter;
}

/** Ids or `--filter` pairs, exactly one of the two. */
export function parseSelection(
  ids: readonly string[],
  filterPairs: readonly string[],
  now = new Date(),
): Selection {
  if (ids.length > 0 && filterPairs.length > 0) {
    throw new UsageError('give dead-letter ids or --filter, not both');
  }
  if (ids.length === 0 && filterPairs.length === 0) {
    throw new UsageError('give dead-letter ids, or --filter topic=<topic> [key=value …]');
  }
  if (filterPairs.length > 0) return { filter: parseFilter(filterPairs, now) };
  const bad = ids.filter((id) => !UUID.test(id));
  if (bad.length > 0) throw new UsageError(`not dead-letter ids (uuids): ${bad.join(', ')}`);
  return { ids: [...new Set(ids)] };
}

/** A selection in one line, for prompts and summaries. */
export function describeSelection(selection: Selection): string {
  if ('ids' in selection)
    return `${selection.ids.length} dead letter${selection.ids.length === 1 ? '' : 's'} by id`;
  return `every DEAD record matching ${Object.entries(selection.filter)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

/** A positive integer flag value, or a usage error naming the flag. */
export function positiveInt(name: string, max: number) {
  return (raw: string): number => {
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new UsageError(`${name}: expected an integer from 1 to ${max}, got "${raw}"`);
    }
    return value;
  };
}
