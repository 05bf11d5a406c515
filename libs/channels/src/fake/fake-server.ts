import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DELIVERY_CHANNELS, type DeliveryChannel } from '@fleet/contracts';
import { z } from 'zod';
import {
  CallbackDispatcher,
  DEFAULT_CALLBACK_DELAYS_MS,
  DEFAULT_CALLBACK_RETRY,
  type CallbackDelaysMs,
  type CallbackRetryOptions,
} from './callbacks';
import {
  graphError,
  graphErrorForStatus,
  newInstagramMid,
  newWamid,
  readInstagramSend,
  readWhatsAppSend,
  validateInstagramSend,
  validateWhatsAppSend,
  type GraphErrorAnswer,
} from './graph-answers';
import {
  httpScriptRuleSchema,
  ruleFromHttp,
  ScriptBook,
  type ScriptedResponse,
  type ScriptRule,
} from './script';
import { type FakeCallbackDelivery, type FakeChannelCall } from './types';

/** Values the fake uses when an option is not given; a fake's credentials protect nothing. */
export const FAKE_CHANNEL_DEFAULTS = Object.freeze({
  whatsAppToken: 'fake-whatsapp-token',
  instagramToken: 'fake-instagram-token',
  phoneNumberId: '100000000000001',
  displayPhoneNumber: '15550000001',
  whatsAppBusinessAccountId: '200000000000001',
  instagramAccountId: '17841400000000001',
  appSecret: 'fake-app-secret',
});

/** Options of {@link FakeChannelServer}. */
export interface FakeChannelServerOptions {
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** Loopback only by default: the fake has no business on other interfaces. @defaultValue `127.0.0.1` */
  host?: string;
  /** Bearer tokens the endpoints accept. @defaultValue {@link FAKE_CHANNEL_DEFAULTS} tokens */
  tokens?: Partial<Record<DeliveryChannel, string>>;
  /** The WhatsApp phone number id in `/{version}/{phoneNumberId}/messages`. @defaultValue `100000000000001` */
  phoneNumberId?: string;
  /**
   * The Instagram professional account id (webhook `entry.id`; also accepted instead of `me`).
   * @defaultValue `17841400000000001`
   */
  instagramAccountId?: string;
  /** Secret that signs every webhook (`X-Hub-Signature-256`). @defaultValue `fake-app-secret` */
  appSecret?: string;
  /** Per-channel secrets, when the two apps differ. @defaultValue `appSecret` for both */
  appSecrets?: Partial<Record<DeliveryChannel, string>>;
  /** Where status webhooks go, per channel. @defaultValue none: no webhooks are sent */
  webhookUrls?: Partial<Record<DeliveryChannel, string>>;
  /** When each webhook is due after acceptance. @defaultValue `{ sent: 50, delivered: 100, read: 150 }` */
  callbackDelaysMs?: Partial<CallbackDelaysMs>;
  /** Retries of webhooks the receiver did not take. @defaultValue 4 attempts, 200 ms doubling to 2 s */
  callbackRetry?: Partial<CallbackRetryOptions>;
  /** Send `read` webhooks after `delivered`. @defaultValue true */
  sendReadReceipts?: boolean;
  /**
   * Statuses falling due within this many ms go to a URL in one webhook, as Meta batches them
   * (up to 1,000 per POST). @defaultValue 0 (each status on its own)
   */
  callbackBatchWindowMs?: number;
  /** Told about every call once it is answered (the fake-channels tool logs these). */
  onCall?: (call: FakeChannelCall) => void;
  /** Told about every webhook once delivered, given up or cancelled. */
  onCallback?: (delivery: FakeCallbackDelivery) => void;
}

const MAX_BODY_BYTES = 1_048_576;

/** Which channel endpoint a path names, or why none. */
type Route = { channel: DeliveryChannel } | { unknownObject: string } | undefined;

/**
 * A local stand-in for the WhatsApp Cloud API and the Instagram Messaging API that behaves like
 * them on the wire: bearer tokens, request validation with Graph-style errors, assigned ids, and
 * signed status webhooks in the real payload shapes. Records every call; scriptable from the test
 * ({@link FakeChannelServer.script}) and over HTTP (`/_fake/*`) for other processes.
 */
export class FakeChannelServer {
  private readonly server: Server;
  private readonly book = new ScriptBook();
  private readonly dispatcher: CallbackDispatcher;
  private readonly recorded: FakeChannelCall[] = [];
  private readonly tokens: Record<DeliveryChannel, string>;
  private readonly phoneNumberId: string;
  private readonly instagramAccountId: string;
  /** Aborted by reset() and stop(): delayed answers of an earlier test must not land in the next one. */
  private delays = new AbortController();
  private seq = 0;
  private listening = false;

  constructor(private readonly options: FakeChannelServerOptions = {}) {
    this.tokens = {
      whatsapp: options.tokens?.whatsapp ?? FAKE_CHANNEL_DEFAULTS.whatsAppToken,
      instagram: options.tokens?.instagram ?? FAKE_CHANNEL_DEFAULTS.instagramToken,
    };
    this.phoneNumberId = options.phoneNumberId ?? FAKE_CHANNEL_DEFAULTS.phoneNumberId;
    this.instagramAccountId = options.instagramAccountId ?? FAKE_CHANNEL_DEFAULTS.instagramAccountId;
    const appSecret = options.appSecret ?? FAKE_CHANNEL_DEFAULTS.appSecret;
    this.dispatcher = new CallbackDispatcher({
      identity: {
        whatsAppBusinessAccountId: FAKE_CHANNEL_DEFAULTS.whatsAppBusinessAccountId,
        phoneNumberId: this.phoneNumberId,
        displayPhoneNumber: FAKE_CHANNEL_DEFAULTS.displayPhoneNumber,
        instagramAccountId: this.instagramAccountId,
      },
      webhookUrls: { ...options.webhookUrls },
      appSecrets: {
        whatsapp: options.appSecrets?.whatsapp ?? appSecret,
        instagram: options.appSecrets?.instagram ?? appSecret,
      },
      delaysMs: { ...DEFAULT_CALLBACK_DELAYS_MS, ...options.callbackDelaysMs },
      retry: { ...DEFAULT_CALLBACK_RETRY, ...options.callbackRetry },
      sendRead: options.sendReadReceipts ?? true,
      batchWindowMs: options.callbackBatchWindowMs ?? 0,
      onDelivery: options.onCallback,
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.internalError(res, error));
    });
    // Node's default (5 s). Not less: undici keeps a connection only while the server's advertised
    // keep-alive exceeds its 1 s safety margin, so at 1 s every call opened a new connection
    // (measured: a TCP connect and a 'reset' error per channel call). stop() closes them anyway.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Creates and starts a fake in one step. */
  static async start(options: FakeChannelServerOptions = {}): Promise<FakeChannelServer> {
    const server = new FakeChannelServer(options);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  /** Stops listening, cancels pending webhooks and delayed answers, closes open connections. */
  async stop(): Promise<void> {
    this.dispatcher.cancelAll();
    this.delays.abort();
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  get port(): number {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('FakeChannelServer is not listening; call start() first');
    return address.port;
  }

  /** Base URL for connectors (`baseUrl`): `http://127.0.0.1:<port>`. */
  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Every channel call since the last reset, in arrival order (copies). */
  get calls(): FakeChannelCall[] {
    return this.recorded.map((call) => ({ ...call }));
  }

  /** The calls on one channel, optionally narrowed further. */
  callsFor(channel: DeliveryChannel, where?: (call: FakeChannelCall) => boolean): FakeChannelCall[] {
    return this.calls.filter((call) => call.channel === channel && (where?.(call) ?? true));
  }

  /** Every status webhook sent or being sent since the last reset (copies). */
  get callbacks(): FakeCallbackDelivery[] {
    return this.dispatcher.deliveries.map((delivery) => ({ ...delivery }));
  }

  /** Adds a script rule (first matching rule answers); returns its id. */
  script(rule: ScriptRule): number {
    return this.book.add(rule);
  }

  /** Points a channel's status webhooks somewhere else (or nowhere, with undefined). */
  setWebhookUrl(channel: DeliveryChannel, url: string | undefined): void {
    this.dispatcher.setWebhookUrl(channel, url);
  }

  /** Resolves once every scheduled webhook was delivered or given up. */
  async callbacksSettled(): Promise<void> {
    await this.dispatcher.idle();
  }

  /** Forgets calls, webhook records and script rules, and cancels pending webhooks. */
  reset(): void {
    this.book.clear();
    this.delays.abort();
    this.delays = new AbortController();
    this.dispatcher.cancelAll();
    this.dispatcher.clearRecords();
    this.recorded.length = 0;
    this.seq = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/_fake/')) return this.handleControl(method, url, req, res);

    const route = this.route(url.pathname);
    if (!route) {
      return send(res, graphError(404, 803, `Unknown path components: ${url.pathname}`));
    }
    if ('unknownObject' in route) {
      await readBody(req).catch(() => undefined);
      return send(
        res,
        graphError(
          400,
          100,
          `Unsupported post request. Object with ID '${route.unknownObject}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          33,
        ),
      );
    }
    if (method !== 'POST') {
      return send(res, graphError(400, 100, `(#100) Unsupported ${method} request on ${url.pathname}`));
    }
    await this.handleSend(route.channel, url, req, res);
  }

  private route(path: string): Route {
    const match = /^\/v\d+\.\d+\/([^/]+)\/messages\/?$/.exec(path);
    if (!match) return undefined;
    const object = decodeURIComponent(match[1]);
    if (object === this.phoneNumberId) return { channel: 'whatsapp' };
    if (object === 'me' || object === this.instagramAccountId) return { channel: 'instagram' };
    return { unknownObject: object };
  }

  private async handleSend(
    channel: DeliveryChannel,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return send(res, graphError(413, 100, `(#100) Request body larger than ${MAX_BODY_BYTES} bytes`));
    }
    let body: unknown;
    let json = true;
    try {
      body = JSON.parse(raw);
    } catch {
      json = false;
    }
    const parsed = channel === 'whatsapp' ? readWhatsAppSend(body) : readInstagramSend(body);
    const call: FakeChannelCall = {
      seq: ++this.seq,
      channel,
      path: url.pathname,
      ...parsed,
      channelMessageId: undefined,
      status: undefined,
      body,
      scripted: false,
      receivedAt: new Date().toISOString(),
    };
    this.recorded.push(call);

    const refusal =
      this.authorize(channel, req, url) ?? (json ? undefined : graphError(400, 100, '(#100) Invalid JSON'));
    const invalid =
      refusal ?? (channel === 'whatsapp' ? validateWhatsAppSend(body) : validateInstagramSend(body));
    if (invalid) return this.answer(call, res, invalid.status, invalid.body);

    const scripted = this.book.take(call);
    call.scripted = scripted !== undefined;
    if (scripted?.delayMs) {
      try {
        await sleep(scripted.delayMs, undefined, { signal: this.delays.signal });
      } catch {
        // Reset or stopped mid-delay: drop the connection, as a channel that went away would.
        res.destroy();
        return;
      }
    }
    const status = scripted?.status ?? 200;
    const headers = scriptedHeaders(scripted);
    if (scripted?.body !== undefined) return this.answer(call, res, status, scripted.body, headers);
    if (status < 200 || status >= 300) {
      return this.answer(call, res, status, graphErrorForStatus(channel, status).body, headers);
    }

    const recipient = parsed.to ?? '';
    const channelMessageId = channel === 'whatsapp' ? newWamid() : newInstagramMid();
    call.channelMessageId = channelMessageId;
    const answer =
      channel === 'whatsapp'
        ? {
            messaging_product: 'whatsapp',
            contacts: [{ input: recipient, wa_id: recipient.replace(/^\+/, '') }],
            messages: [{ id: channelMessageId }],
          }
        : { recipient_id: recipient, message_id: channelMessageId };
    this.answer(call, res, status, answer, headers);
    if (scripted?.callbacks !== 'none') {
      this.dispatcher.accepted({
        channel,
        channelMessageId,
        recipient: channel === 'whatsapp' ? recipient.replace(/^\+/, '') : recipient,
        messageId: parsed.messageId,
        outcome: scripted?.callbacks === 'failed' ? 'failed' : 'normal',
      });
    }
  }

  private authorize(channel: DeliveryChannel, req: IncomingMessage, url: URL): GraphErrorAnswer | undefined {
    const header = req.headers.authorization;
    // Graph also takes the token as a query parameter.
    const token =
      header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? url.searchParams.get('access_token') ?? undefined;
    if (token === undefined || token === '') {
      return graphError(401, 104, 'An access token is required to request this resource.');
    }
    if (token !== this.tokens[channel]) {
      return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    }
    return undefined;
  }

  private answer(
    call: FakeChannelCall,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    call.status = status;
    sendRaw(res, status, body, headers);
    try {
      this.options.onCall?.({ ...call });
    } catch {
      // An observer's bug must not turn into an answer the client sees.
    }
  }

  private async handleControl(
    method: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
    switch (route) {
      case 'GET /_fake/health':
        return sendRaw(res, 200, { status: 'ok' });
      case 'GET /_fake/calls': {
        const channel = url.searchParams.get('channel');
        if (channel !== null && !(DELIVERY_CHANNELS as readonly string[]).includes(channel)) {
          return sendRaw(res, 400, { error: `channel must be one of ${DELIVERY_CHANNELS.join(', ')}` });
        }
        const calls = channel === null ? this.calls : this.callsFor(channel as DeliveryChannel);
        return sendRaw(res, 200, { calls });
      }
      case 'GET /_fake/callbacks':
        return sendRaw(res, 200, { callbacks: this.callbacks });
      case 'POST /_fake/reset':
        await readBody(req).catch(() => undefined);
        this.reset();
        return sendRaw(res, 200, { reset: true });
      case 'POST /_fake/script': {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch {
          return sendRaw(res, 400, { error: 'body must be a JSON script rule' });
        }
        const rule = httpScriptRuleSchema.safeParse(body);
        if (!rule.success) return sendRaw(res, 400, { error: z.prettifyError(rule.error) });
        return sendRaw(res, 201, { id: this.book.add(ruleFromHttp(rule.data)) });
      }
      default:
        return sendRaw(res, 404, {
          error: `unknown control ${route}; try GET /_fake/calls, GET /_fake/callbacks, POST /_fake/script, POST /_fake/reset`,
        });
    }
  }

  private internalError(res: ServerResponse, error: unknown): void {
    // A bug in the fake must look like one, not like a channel outage a connector would retry silently.
    const message = `fake channel server bug: ${error instanceof Error ? error.message : String(error)}`;
    if (!res.headersSent) sendRaw(res, 500, { error: { message, type: 'FakeServerError', code: -1 } });
    else res.destroy();
  }
}

function scriptedHeaders(scripted: ScriptedResponse | undefined): Record<string, string> {
  const headers = { ...scripted?.headers };
  if (scripted?.retryAfter !== undefined) headers['retry-after'] = String(scripted.retryAfter);
  return headers;
}

function send(res: ServerResponse, answer: GraphErrorAnswer): void {
  sendRaw(res, answer.status, answer.body);
}

function sendRaw(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // The client may have given up (timed out) while a scripted delay ran.
  if (res.destroyed || res.writableEnded) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type':
      typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RangeError('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
