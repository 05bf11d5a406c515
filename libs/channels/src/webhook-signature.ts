import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The header Meta signs webhook deliveries with (WhatsApp Cloud API and Instagram alike). */
export const WEBHOOK_SIGNATURE_HEADER = 'x-hub-signature-256';

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * The `X-Hub-Signature-256` value for `rawBody`: `sha256=` and the hex HMAC-SHA256 of the exact
 * bytes with the app secret. Used by the fake channel server, and by tests that play Meta.
 */
export function signWebhookBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Checks a webhook delivery's `X-Hub-Signature-256` against the RAW request body, i.e. the bytes
 * as received: a re-serialised JSON body (other key order, escaped unicode) does not verify.
 *
 * Compares in constant time. Returns false (never throws) for a missing or malformed header, a
 * body that is not bytes, or an empty secret (a misconfiguration must not accept everything).
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  try {
    if (typeof header !== 'string' || typeof appSecret !== 'string' || appSecret === '') return false;
    if (!Buffer.isBuffer(rawBody) && typeof rawBody !== 'string') return false;
    const match = SIGNATURE.exec(header.trim());
    if (!match) return false;
    const expected = createHmac('sha256', appSecret).update(rawBody).digest();
    return timingSafeEqual(Buffer.from(match[1], 'hex'), expected);
  } catch {
    return false;
  }
}

/**
 * Answers Meta's subscription handshake (`GET` on the webhook URL with `hub.mode=subscribe`,
 * `hub.verify_token`, `hub.challenge`): returns the challenge to echo as the plain-text 200 body
 * when the mode is `subscribe` and the token matches `verifyToken`; otherwise undefined (answer 403).
 *
 * Reads both flat keys (`query['hub.mode']`, what fastify's default parser yields) and nested ones
 * (`query.hub.mode`, what `qs`-style parsers yield).
 */
export function answerSubscriptionChallenge(
  query: Record<string, unknown>,
  verifyToken: string,
): string | undefined {
  if (typeof verifyToken !== 'string' || verifyToken === '' || typeof query !== 'object' || query === null) {
    return undefined;
  }
  const nested =
    typeof query['hub'] === 'object' && query['hub'] !== null
      ? (query['hub'] as Record<string, unknown>)
      : {};
  const param = (name: string): string | undefined => {
    const value = query[`hub.${name}`] ?? nested[name];
    return typeof value === 'string' ? value : undefined;
  };
  const mode = param('mode');
  const token = param('verify_token');
  const challenge = param('challenge');
  if (mode !== 'subscribe' || token === undefined || challenge === undefined || challenge === '')
    return undefined;
  return sameSecret(token, verifyToken) ? challenge : undefined;
}

/** Constant-time equality for strings of any length (hashing first equalises the lengths). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
