import { type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { signCallback } from './sign';
import { type AllowlistEntry, checkCallbackUrl, type HostLookup } from './ssrf';

/** What one delivery attempt came to, for the caller's retry policy. `ms` is the attempt's duration. */
export type DeliveryOutcome =
  | { outcome: 'delivered'; status: number; ms: number }
  | { outcome: 'retriable'; status?: number; reason: string; ms: number }
  | { outcome: 'permanent'; status?: number; reason: string; ms: number };

export interface DeliverCallbackOptions {
  url: string;
  /** The `webhook-id`: the same on every attempt of one event (see `callbackEventId`). */
  id: string;
  /** The JSON body, sent byte for byte as signed. */
  body: string;
  secret: string;
  allowlist: AllowlistEntry[];
  /** Budget for the whole attempt: resolving, connecting, the answer's headers and body. */
  timeoutMs: number;
  lookup?: HostLookup;
  /** Clock for `webhook-timestamp`, in ms since the epoch like `Date.now`. */
  now?: () => number;
  userAgent?: string;
}

export const DEFAULT_USER_AGENT = 'fleet-webhooks/1';

/** Most of a response body read before it is dropped: receivers have nothing to tell us in it. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** undici error codes meaning the receiver was too slow, not wrong. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Statuses a receiver answers when it may take the same event later (RFC 9110, RFC 8470, RFC 6585). */
const RETRIABLE_STATUSES = new Set([408, 425, 429]);

/**
 * How a receiver's status classifies: 2xx took it; 408/425/429 and 5xx may take it later; any
 * other answer (3xx — redirects are not followed, a signed body must not wander —, 4xx) will not
 * change on a retry.
 */
export function classifyStatus(status: number): 'delivered' | 'retriable' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered';
  if (RETRIABLE_STATUSES.has(status) || (status >= 500 && status < 600)) return 'retriable';
  return 'permanent';
}

/**
 * A `net.connect` lookup that answers with the addresses `checkCallbackUrl` approved and asks no
 * resolver: a host re-resolving to 127.0.0.1 between the check and the connect (DNS rebinding)
 * can't move the request.
 */
function pinnedLookup(addresses: string[]) {
  const pinned: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  return (
    _hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const usable = pinned.filter((entry) => family === 0 || entry.family === family);
    const first = usable[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${family} address`);
      error.code = 'ENOTFOUND';
      callback(error, []);
    } else if (options.all === true) {
      callback(null, usable);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/** A network error as one line: its code and message (an AggregateError's from its parts). */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ');
  }
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** Whether the error is the attempt's deadline (ours or one of undici's own timers). */
function isTimeout(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** Resolves with the promise, or with `undefined` once the signal fires, whichever is first. */
function beforeDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Makes one signed delivery attempt of a callback. The URL is checked again here (it may have
 * been stored long ago, and DNS may have changed since), and the connection goes only to the
 * addresses that check approved. Redirects are not followed (undici's `request` follows none
 * without the redirect interceptor). Each attempt is signed with a fresh timestamp, so a retry
 * an hour later still passes the receiver's replay window; the id stays the same so the receiver
 * deduplicates. Throws only on a bad secret or id: configuration errors, not delivery outcomes.
 */
export async function deliverCallback(o: DeliverCallbackOptions): Promise<DeliveryOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const headers = signCallback({
    secret: o.secret,
    id: o.id,
    timestamp: Math.floor((o.now ?? Date.now)() / 1000),
    body: o.body,
  });
  const signal = AbortSignal.timeout(o.timeoutMs);

  const check = await beforeDeadline(
    checkCallbackUrl(o.url, { allowlist: o.allowlist, ...(o.lookup ? { lookup: o.lookup } : {}) }),
    signal,
  );
  if (check === undefined) {
    return {
      outcome: 'retriable',
      reason: `resolving the callback host timed out after ${o.timeoutMs} ms`,
      ms: ms(),
    };
  }
  if (!check.ok) {
    return { outcome: check.transient ? 'retriable' : 'permanent', reason: check.reason, ms: ms() };
  }

  const agent = new Agent({
    connect: { lookup: pinnedLookup(check.addresses), timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connections: 1,
  });
  try {
    const response = await request(check.url, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: {
        ...headers,
        'content-type': 'application/json',
        'user-agent': o.userAgent ?? DEFAULT_USER_AGENT,
      },
      body: o.body,
    });
    // The status is the answer; the body is read (bounded) only so the connection ends cleanly.
    await response.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
    const status = response.statusCode;
    const verdict = classifyStatus(status);
    if (verdict === 'delivered') return { outcome: 'delivered', status, ms: ms() };
    const what = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    return { outcome: verdict, status, reason: `callback receiver answered ${status}${what}`, ms: ms() };
  } catch (error) {
    if (isTimeout(error, signal)) {
      return { outcome: 'retriable', reason: `callback timed out after ${o.timeoutMs} ms`, ms: ms() };
    }
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    // An argument undici refuses (a header value, say) fails the same way every time.
    const outcome = code === 'UND_ERR_INVALID_ARG' ? 'permanent' : 'retriable';
    return { outcome, reason: `callback request failed: ${describeError(error)}`, ms: ms() };
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
