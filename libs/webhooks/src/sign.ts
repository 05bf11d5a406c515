import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Shortest secret accepted: a shorter HMAC key is guessable offline from one signed callback. */
export const MIN_SECRET_LENGTH = 16;

/** How old (or how far in the future) a `webhook-timestamp` may be, as Standard Webhooks says. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The three Standard Webhooks headers (lowercase, as node:http hands them to a receiver). */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** An id goes into a header and into the signed string: printable ASCII without spaces only. */
const ID_RE = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP_RE = /^\d{1,12}$/;

/**
 * The signer for one secret. The secret is used as raw bytes (its UTF-8 encoding), not
 * base64-decoded: `standardwebhooks` base64-decodes a string unless `{ format: 'raw' }`, and its
 * raw string path keeps only the low byte of each UTF-16 unit, so we hand it the UTF-8 bytes —
 * what `crypto.createHmac('sha256', secret)` uses on the receiver's side.
 */
function webhookFor(secret: string): Webhook {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`webhook secret must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`);
  }
  return new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
}

/**
 * The headers that sign one callback: `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The body must be sent
 * byte for byte as given: the signature covers exactly these bytes.
 */
export function signCallback(o: {
  secret: string;
  id: string;
  timestamp: number;
  body: string;
}): Record<string, string> {
  if (!ID_RE.test(o.id)) throw new Error(`webhook id "${o.id}" must be 1-256 printable ASCII characters`);
  if (!Number.isSafeInteger(o.timestamp) || o.timestamp < 0) {
    throw new Error(`webhook timestamp ${o.timestamp} must be a non-negative integer of unix seconds`);
  }
  const signature = webhookFor(o.secret).sign(o.id, new Date(o.timestamp * 1000), o.body);
  return {
    [WEBHOOK_ID_HEADER]: o.id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(o.timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signature,
  };
}

/** One header's value, whatever the case of its name; a repeated header is refused, not guessed at. */
function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): { value: string } | { error: string } {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));
  if (values.length === 0 || values[0] === '') return { error: `missing ${name} header` };
  if (values.length > 1) return { error: `${name} header given ${values.length} times` };
  return { value: values[0] };
}

/** Constant-time string comparison, so a forger can't learn the signature a byte at a time. */
function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies one received callback as a receiver should: all three headers present, the timestamp
 * within `toleranceSeconds` of `now` (unix seconds; refuses replays of old captures and
 * far-future stamps), and one of the space-separated `v1,` signatures matching. The timestamp is
 * checked here rather than by `Webhook.verify`, whose clock and tolerance can't be set.
 */
export function verifyCallback(o: {
  secret: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  toleranceSeconds?: number;
  now?: number;
}): { ok: true; id: string } | { ok: false; reason: string } {
  const webhook = webhookFor(o.secret);
  const id = headerValue(o.headers, WEBHOOK_ID_HEADER);
  if ('error' in id) return { ok: false, reason: id.error };
  const stamp = headerValue(o.headers, WEBHOOK_TIMESTAMP_HEADER);
  if ('error' in stamp) return { ok: false, reason: stamp.error };
  const signature = headerValue(o.headers, WEBHOOK_SIGNATURE_HEADER);
  if ('error' in signature) return { ok: false, reason: signature.error };

  if (!TIMESTAMP_RE.test(stamp.value)) {
    return { ok: false, reason: `webhook-timestamp "${stamp.value}" is not unix seconds` };
  }
  const timestamp = Number(stamp.value);
  const now = Math.floor(o.now ?? Date.now() / 1000);
  const tolerance = o.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) {
    return {
      ok: false,
      reason: `webhook-timestamp is ${now - timestamp} s old, beyond the ${tolerance} s tolerance (replay refused)`,
    };
  }
  if (timestamp - now > tolerance) {
    return {
      ok: false,
      reason: `webhook-timestamp is ${timestamp - now} s in the future, beyond the ${tolerance} s tolerance`,
    };
  }

  const expected = webhook.sign(id.value, new Date(timestamp * 1000), o.body);
  const matched = signature.value.split(' ').some((candidate) => safeEqual(candidate, expected));
  if (!matched) return { ok: false, reason: 'no matching v1 signature in webhook-signature' };
  return { ok: true, id: id.value };
}
