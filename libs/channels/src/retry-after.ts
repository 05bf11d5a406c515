/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3) into milliseconds from `nowMs`.
 *
 * Accepts both forms: delta-seconds (`"2"`) and an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`).
 * A date in the past means "now" (0). Anything else (empty, negative, fractional, garbage) is
 * `undefined`: a malformed header must not turn into an arbitrary wait.
 *
 * @param nowMs - the current time; injectable for tests. @defaultValue `Date.now()`
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) has a weekday name and an hh:mm:ss time;
  // requiring both keeps V8's lenient Date.parse from reading "-1" or "1.5" as a date.
  if (!/^[a-z]{3}/i.test(trimmed) || !/\b\d{2}:\d{2}:\d{2}\b/.test(trimmed)) return undefined;
  // HTTP-dates are always GMT; asctime carries no zone and Date.parse would read it as local time.
  const at = Date.parse(/\b(GMT|UTC)\b/i.test(trimmed) ? trimmed : `${trimmed} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
