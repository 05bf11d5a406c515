import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo } from 'node:net';
import { verifyCallback } from './sign';

/** One request the fake receiver verified, and what it answered. */
export interface FakeDelivery {
  id: string;
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface FakeReceiver {
  /** Where to send callbacks: `http://127.0.0.1:<port><path>`. */
  url: string;
  /** Every verified request, in order, failures included. */
  deliveries: FakeDelivery[];
  /** Events taken (verified and answered 2xx), once per `webhook-id`: the parsed JSON body. */
  events: Map<string, unknown>;
  /** Requests refused before the status script: bad signature, replay, wrong path or method. */
  rejected: { reason: string }[];
  /** Resolves once `events.size >= n`; rejects after `timeoutMs` saying how many came. */
  waitForEvents(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeReceiverOptions {
  secret: string;
  /** How many verified deliveries to answer with `status` before answering 200. @defaultValue 0 */
  failFirst?: number;
  /** The failure answer. @defaultValue 503 */
  status?: number;
  /** The only path taken; others get 404. @defaultValue '/callback' */
  path?: string;
}

/** Largest body the fake reads: a test callback is small; a runaway sender should not fill memory. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The request's body as text, or `undefined` if it was larger than {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request's headers as one string each (node gives arrays only for set-cookie). */
function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The body as JSON when it is JSON, else the text: the fake records what it got either way. */
function parseEvent(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/**
 * A callback receiver on 127.0.0.1 that behaves like a careful real one: verifies the Standard
 * Webhooks signature and timestamp (401 otherwise), answers the scripted failure status to the
 * first `failFirst` verified deliveries, and records each event once per `webhook-id`, so a test
 * can show that retries of one event are taken once.
 */
export async function startFakeReceiver(o: FakeReceiverOptions): Promise<FakeReceiver> {
  const path = o.path ?? '/callback';
  const failFirst = o.failFirst ?? 0;
  const failStatus = o.status ?? 503;
  const deliveries: FakeDelivery[] = [];
  const events = new Map<string, unknown>();
  const rejected: { reason: string }[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const answer = (status: number) => res.writeHead(status, { 'content-type': 'text/plain' }).end();
      if (req.method !== 'POST' || req.url !== path) {
        rejected.push({ reason: `${req.method ?? '?'} ${req.url ?? '?'} is not POST ${path}` });
        return answer(req.method !== 'POST' ? 405 : 404);
      }
      if (body === undefined) {
        rejected.push({ reason: `body over ${MAX_BODY_BYTES} bytes` });
        return answer(413);
      }
      const verdict = verifyCallback({ secret: o.secret, headers: req.headers, body });
      if (!verdict.ok) {
        rejected.push({ reason: verdict.reason });
        return answer(401);
      }
      const status = deliveries.length < failFirst ? failStatus : 200;
      deliveries.push({ id: verdict.id, status, body, headers: flatHeaders(req) });
      if (status >= 200 && status < 300 && !events.has(verdict.id)) {
        events.set(verdict.id, parseEvent(body));
        for (const wake of waiters) wake();
      }
      answer(status);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    deliveries,
    events,
    rejected,
    waitForEvents: (n, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (events.size < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake receiver: ${events.size} of ${n} events after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
