import { createHash } from 'node:crypto';

/**
 * The namespace of callback event ids. Fixed forever: changing it would give every retried or
 * re-run delivery a new id, and receivers deduplicating by `webhook-id` would take it twice.
 */
export const CALLBACK_EVENT_NAMESPACE = 'dcb111fc-5aad-4d02-8470-85c967291865';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A name-based UUID (RFC 9562 version 5): SHA-1 of the namespace's 16 bytes and the name's UTF-8
 * bytes, first 16 bytes kept, version nibble 5, variant bits `10`. Exported for its test against
 * the RFC's published vectors; callers want {@link callbackEventId}.
 */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID_RE.test(namespace)) throw new Error(`uuidV5: namespace "${namespace}" is not a UUID`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The `webhook-id` of one callback event: the same for every delivery attempt of the same job and
 * event type — a retry after a timeout, or a re-run of the whole job — so a receiver that
 * deduplicates by id acts once. `type` may not contain `:`, which keeps `jobId + ':' + type`
 * unambiguous (the last `:` always splits it).
 */
export function callbackEventId(jobId: string, type: string): string {
  if (jobId.length === 0) throw new Error('callbackEventId: jobId is empty');
  if (type.length === 0 || type.includes(':')) {
    throw new Error(`callbackEventId: type "${type}" must be non-empty and contain no ":"`);
  }
  return uuidV5(CALLBACK_EVENT_NAMESPACE, `${jobId}:${type}`);
}
