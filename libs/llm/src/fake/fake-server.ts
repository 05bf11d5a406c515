import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { Semaphore } from '../semaphore';
import { busyMsWithin, epochMs, type BusyInterval, type BusyKind } from './busy';
import { fnv1a, sampleFromJsonSchema } from './schema-sample';

/** Ways the fake can misbehave. Several may be armed; each request takes the first that applies. */
export type FakeLlmFaultKind = 'fail' | 'hang' | 'truncate' | 'invalid_json' | 'mismatch';

/** Priority when several faults are armed: the first armed one in this list hits the request. */
export const FAKE_LLM_FAULT_KINDS: readonly FakeLlmFaultKind[] = [
  'fail',
  'hang',
  'truncate',
  'invalid_json',
  'mismatch',
];

/** How a call ended. `pending` while it waits or generates. */
export type FakeLlmOutcome =
  | 'pending'
  | 'ok'
  | 'failed'
  | 'hung'
  | 'truncated'
  | 'invalid_json'
  | 'mismatch'
  | 'rejected'
  | 'client_gone';

/** One `POST /v1/chat/completions` as the fake saw it. Times are epoch ms (fractional). */
export interface FakeLlmCall {
  seq: number;
  model: string | undefined;
  /** `response_format.type`: `json_schema`, `json_object`, `text`, or undefined. */
  responseFormat: string | undefined;
  /** `response_format.json_schema.name`. */
  schemaName: string | undefined;
  strict: boolean | undefined;
  maxTokens: number | undefined;
  temperature: number | undefined;
  messages: unknown;
  /** HTTP status answered; undefined while pending. */
  status: number | undefined;
  outcome: FakeLlmOutcome;
  /** The fault that hit this call, if any. */
  fault: FakeLlmFaultKind | undefined;
  receivedAt: number;
  /** When the simulated GPU took it (after queueing behind earlier calls). */
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Chat requests open at the fake when this one arrived, itself included: > 1 means the client overlapped calls. */
  openAtArrival: number;
  promptTokens: number;
  completionTokens: number;
  /** The answer's `message.content`. */
  content: string | undefined;
}

/** What a responder sees. */
export interface FakeLlmRequest {
  seq: number;
  model: string;
  messages: unknown[];
  schemaName: string | undefined;
  /** `response_format.json_schema.schema`, when given. */
  schema: unknown;
  body: Record<string, unknown>;
}

/**
 * Decides the content of an answer. A string is sent verbatim as `message.content`; anything else
 * is sent as its JSON. May be async.
 */
export type FakeLlmResponder = (request: FakeLlmRequest) => unknown;

/** Speed of the simulated GPU. */
export interface FakeLlmSpeed {
  /** Completion tokens generated per second. @defaultValue 40 (a 7B Q4 model on a GTX 1080) */
  tokensPerSecond: number;
  /** Prompt tokens processed per second; 0 = not simulated. @defaultValue 0 */
  promptTokensPerSecond: number;
  /** Extra time of the first call for each model (loading it into VRAM). @defaultValue 0 */
  modelLoadDelayMs: number;
}

/** Options of {@link FakeLlmServer}. */
export interface FakeLlmServerOptions {
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** Loopback only by default. @defaultValue `127.0.0.1` */
  host?: string;
  /** Model ids `GET /v1/models` lists and chat completions accept. @defaultValue `['fake-model']` */
  models?: string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401). @defaultValue none */
  apiKey?: string;
  /** @defaultValue 40 */
  tokensPerSecond?: number;
  /** @defaultValue 0 (not simulated) */
  promptTokensPerSecond?: number;
  /** @defaultValue 0 */
  modelLoadDelayMs?: number;
  /**
   * Completion tokens of an answer: a fixed number, or a function of its content.
   * @defaultValue `ceil(content.length / 4)` (about 4 characters per token)
   */
  completionTokens?: number | ((content: string) => number);
  /** @defaultValue a value derived from the request's JSON schema ({@link sampleFromJsonSchema}) */
  responder?: FakeLlmResponder;
  /** Told about every chat call once it is answered (or abandoned). */
  onCall?: (call: FakeLlmCall) => void;
}

/** Busy-time accounting of the simulated GPU. */
export interface FakeLlmBusy {
  /** Total busy milliseconds so far (running interval included). */
  totalMs: number;
  /** True while a call holds the GPU. */
  busyNow: boolean;
  intervals: BusyInterval[];
}

interface ArmedFault {
  remaining: number | 'always';
  status: number;
}

const MAX_BODY_BYTES = 4 * 1_048_576;
const INVALID_JSON = 'Sure! Here is the JSON you asked for: {"result": "almost json",';

/** Control requests over HTTP (`POST /_fake/fault`). */
const faultBody = z.object({
  kind: z.enum(FAKE_LLM_FAULT_KINDS as [FakeLlmFaultKind, ...FakeLlmFaultKind[]]),
  count: z.union([z.int().min(1), z.literal('always')]).default(1),
  status: z.int().min(400).max(599).optional(),
});
const speedBody = z.object({
  tokensPerSecond: z.number().positive().optional(),
  promptTokensPerSecond: z.number().nonnegative().optional(),
  modelLoadDelayMs: z.number().nonnegative().optional(),
});
const modelsBody = z.object({ models: z.array(z.string().min(1)) });

/**
 * A local OpenAI-compatible server (the LM Studio / llama.cpp dialect of it) that simulates ONE
 * GPU: chat completions are served one at a time in arrival order, each taking
 * `completionTokens / tokensPerSecond` (plus a first-call model load), so queueing and throughput
 * behave like the real box. Answers are deterministic: by default a value built from the request's
 * JSON schema. Faults can be armed for the next N requests or for good; every call is recorded,
 * and busy time is accounted for benchmarks. Controllable from the test and over HTTP (`/_fake/*`).
 */
export class FakeLlmServer {
  private readonly server: Server;
  private readonly gpu = new Semaphore(1);
  private readonly recorded: FakeLlmCall[] = [];
  private readonly busyIntervals: BusyInterval[] = [];
  private readonly loaded = new Set<string>();
  private faults = new Map<FakeLlmFaultKind, ArmedFault>();
  private models: string[];
  private speed: FakeLlmSpeed;
  private responder: FakeLlmResponder | undefined;
  private completionTokens: number | ((content: string) => number) | undefined;
  /** Aborted by reset() and stop(): sleeping or hanging calls of an earlier test end with it. */
  private lifetime = new AbortController();
  private seq = 0;
  private open = 0;
  private modelListRequests = 0;
  private listening = false;

  constructor(private readonly options: FakeLlmServerOptions = {}) {
    this.models = [...(options.models ?? ['fake-model'])];
    this.speed = initialSpeed(options);
    this.responder = options.responder;
    this.completionTokens = options.completionTokens;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.internalError(res, error));
    });
    // Node's default (5 s). Not less: undici keeps a connection only while the server's advertised
    // keep-alive exceeds its 1 s safety margin, so at 1 s every call opened a new connection
    // (measured: a TCP connect and a 'reset' error per channel call). stop() closes them anyway.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Creates and starts a fake in one step. */
  static async start(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
    const server = new FakeLlmServer(options);
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

  /** Stops listening; ends hanging and sleeping calls; closes connections. */
  async stop(): Promise<void> {
    this.lifetime.abort();
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  get port(): number {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('FakeLlmServer is not listening; call start() first');
    return address.port;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The base URL clients take (`LOCAL_LLM_ENDPOINT`): `http://127.0.0.1:<port>/v1`. */
  get url(): string {
    return `${this.origin}/v1`;
  }

  /** Every chat completion call since the last reset, in arrival order (copies). */
  get calls(): FakeLlmCall[] {
    return this.recorded.map((call) => ({ ...call }));
  }

  /** `GET /v1/models` requests since the last reset. */
  get modelRequests(): number {
    return this.modelListRequests;
  }

  /** The most chat requests that were open at once. */
  get maxOpenAtOnce(): number {
    return this.recorded.reduce((max, call) => Math.max(max, call.openAtArrival), 0);
  }

  get currentSpeed(): FakeLlmSpeed {
    return { ...this.speed };
  }

  /** Busy time of the simulated GPU since the last reset. */
  get busy(): FakeLlmBusy {
    const now = epochMs();
    return {
      totalMs: busyMsWithin(this.busyIntervals, -Infinity, Infinity, now),
      busyNow: this.busyIntervals.some((i) => i.endMs === undefined),
      intervals: this.busyIntervals.map((i) => ({ ...i })),
    };
  }

  /**
   * Busy milliseconds within `[fromMs, toMs]` (epoch ms), e.g. the window in which a benchmark had
   * jobs waiting; divide by the window to get the GPU-busy fraction.
   */
  busyMsBetween(
    fromMs: number,
    toMs: number,
    kinds: readonly BusyKind[] = ['load', 'generate', 'hang'],
  ): number {
    const wanted = this.busyIntervals.filter((i) => kinds.includes(i.kind));
    return busyMsWithin(wanted, fromMs, toMs, epochMs());
  }

  /** Replaces the responder; undefined restores the schema-derived default. */
  setResponder(responder: FakeLlmResponder | undefined): void {
    this.responder = responder;
  }

  /** Changes speed for calls that start from now on (slow it down, speed it up). */
  setSpeed(speed: Partial<FakeLlmSpeed>): void {
    this.speed = { ...this.speed, ...speed };
  }

  /** Shorthand of `setSpeed({ tokensPerSecond })`. */
  setTokensPerSecond(tokensPerSecond: number): void {
    this.setSpeed({ tokensPerSecond });
  }

  /** A fixed completion-token count per answer, or a function of its content; undefined = ~chars/4. */
  setCompletionTokens(tokens: number | ((content: string) => number) | undefined): void {
    this.completionTokens = tokens;
  }

  /** What `GET /v1/models` lists and chat completions accept from now on. */
  setModels(models: string[]): void {
    this.models = [...models];
  }

  /** Forgets which models are loaded: the next call of each pays `modelLoadDelayMs` again. */
  unloadModels(): void {
    this.loaded.clear();
  }

  /** Arms a fault for the next `count` chat requests, or for good (`'always'`). */
  fault(kind: FakeLlmFaultKind, count: number | 'always' = 1, status = 500): void {
    if (count !== 'always' && (!Number.isSafeInteger(count) || count < 1)) {
      throw new RangeError('fault count must be a positive integer or "always"');
    }
    this.faults.set(kind, { remaining: count, status });
  }

  /** The next `count` chat requests fail at once with `status` (500, 503, …). */
  failNext(count: number, status = 500): void {
    this.fault('fail', count, status);
  }

  /** Every chat request fails with `status` until {@link recover}. */
  failAlways(status = 500): void {
    this.fault('fail', 'always', status);
  }

  /** The next `count` answers are not JSON (`finish_reason: stop`). */
  invalidJsonNext(count: number): void {
    this.fault('invalid_json', count);
  }

  /** Every answer is not JSON until {@link recover}. */
  invalidJsonAlways(): void {
    this.fault('invalid_json', 'always');
  }

  /** The next `count` answers are cut in half with `finish_reason: length`. */
  truncateNext(count: number): void {
    this.fault('truncate', count);
  }

  /** The next `count` answers are valid JSON of the wrong shape (an array). */
  mismatchNext(count: number): void {
    this.fault('mismatch', count);
  }

  /** The next `count` requests hold the GPU and never answer, until the client gives up. */
  hangNext(count: number): void {
    this.fault('hang', count);
  }

  /** Every request hangs until {@link recover}. */
  hangAlways(): void {
    this.fault('hang', 'always');
  }

  /** Disarms every fault: the server behaves again (speed and responder are kept). */
  recover(): void {
    this.faults.clear();
  }

  /**
   * Back to the state of a fresh start: calls, busy time, faults, loaded models forgotten; speed,
   * models and responder as the options gave them. Running calls are ended.
   */
  reset(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    this.recorded.length = 0;
    this.busyIntervals.length = 0;
    this.loaded.clear();
    this.faults.clear();
    this.models = [...(this.options.models ?? ['fake-model'])];
    this.speed = initialSpeed(this.options);
    this.responder = this.options.responder;
    this.completionTokens = this.options.completionTokens;
    this.seq = 0;
    this.modelListRequests = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    if (path.startsWith('/_fake/')) return this.handleControl(method, path, url, req, res);
    if (path === '/v1/models' && method === 'GET') {
      if (!this.authorized(req))
        return sendOpenAiError(res, 401, 'invalid_api_key', 'Incorrect API key provided.');
      this.modelListRequests++;
      return sendJson(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', owned_by: 'organization_owner' })),
      });
    }
    if (path === '/v1/chat/completions' && method === 'POST') return this.handleChat(req, res);
    await readBody(req).catch(() => undefined);
    return sendOpenAiError(
      res,
      404,
      'not_found',
      `Unexpected endpoint or method. (${method} ${url.pathname})`,
    );
  }

  private async handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = epochMs();
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new TypeError('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return sendOpenAiError(res, 400, 'invalid_request_error', "'body' must be a JSON object");
    }
    const format = body.response_format as
      { type?: unknown; json_schema?: Record<string, unknown> } | undefined;
    const call: FakeLlmCall = {
      seq: ++this.seq,
      model: typeof body.model === 'string' ? body.model : undefined,
      responseFormat: typeof format?.type === 'string' ? format.type : undefined,
      schemaName: typeof format?.json_schema?.name === 'string' ? format.json_schema.name : undefined,
      strict: typeof format?.json_schema?.strict === 'boolean' ? format.json_schema.strict : undefined,
      maxTokens: typeof body.max_tokens === 'number' ? body.max_tokens : undefined,
      temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
      messages: body.messages,
      status: undefined,
      outcome: 'pending',
      fault: undefined,
      receivedAt,
      startedAt: undefined,
      finishedAt: undefined,
      openAtArrival: ++this.open,
      promptTokens: estimateTokens(JSON.stringify(body.messages ?? '')),
      completionTokens: 0,
      content: undefined,
    };
    this.recorded.push(call);
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    const signal = AbortSignal.any([clientGone.signal, this.lifetime.signal]);
    try {
      await this.serveChat(call, body, res, signal);
    } catch (error) {
      call.status = 500;
      call.outcome = 'failed';
      throw error;
    } finally {
      this.open--;
      if (call.outcome === 'pending') call.outcome = 'client_gone';
      call.finishedAt ??= epochMs();
      try {
        this.options.onCall?.({ ...call });
      } catch {
        // An observer's bug must not change what the client sees.
      }
    }
  }

  private async serveChat(
    call: FakeLlmCall,
    body: Record<string, unknown>,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> {
    const answerError = (status: number, type: string, message: string, outcome: FakeLlmOutcome) => {
      call.status = status;
      call.outcome = outcome;
      call.finishedAt = epochMs();
      sendOpenAiError(res, status, type, message);
    };
    if (!this.authorized(res.req)) {
      return answerError(401, 'invalid_api_key', 'Incorrect API key provided.', 'rejected');
    }
    if (call.model === undefined)
      return answerError(400, 'invalid_request_error', "'model' is required", 'rejected');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return answerError(400, 'invalid_request_error', "'messages' must be a non-empty array", 'rejected');
    }
    if (!this.models.includes(call.model)) {
      return answerError(404, 'model_not_found', `The model \`${call.model}\` does not exist.`, 'rejected');
    }
    const fault = this.takeFault();
    call.fault = fault?.kind;
    if (fault?.kind === 'fail') {
      return answerError(
        fault.status,
        'server_error',
        `fake LLM: simulated failure (HTTP ${fault.status})`,
        'failed',
      );
    }

    let release: () => void;
    try {
      release = await this.gpu.acquire(signal);
    } catch {
      return; // The client gave up while queued: nothing was generated.
    }
    try {
      call.startedAt = epochMs();
      if (!this.loaded.has(call.model) && this.speed.modelLoadDelayMs > 0) {
        if (!(await this.occupy(call.seq, 'load', this.speed.modelLoadDelayMs, signal))) return;
      }
      this.loaded.add(call.model);
      if (fault?.kind === 'hang') {
        call.outcome = 'hung';
        await this.occupy(call.seq, 'hang', Infinity, signal);
        return;
      }

      const schema = jsonSchemaOf(body);
      let content = await this.contentFor(call, body, schema);
      let finishReason = 'stop';
      if (fault?.kind === 'invalid_json') content = INVALID_JSON;
      if (fault?.kind === 'mismatch')
        content = JSON.stringify(['fake mismatch: not the object the schema asks for']);
      if (fault?.kind === 'truncate') {
        content = content.slice(0, Math.max(1, Math.floor(content.length / 2)));
        finishReason = 'length';
      }
      let completionTokens = this.tokensOf(content);
      if (call.maxTokens !== undefined && call.maxTokens > 0 && completionTokens > call.maxTokens) {
        content = content.slice(0, call.maxTokens * 4);
        completionTokens = call.maxTokens;
        finishReason = 'length';
      }
      const generationMs =
        (completionTokens / this.speed.tokensPerSecond) * 1000 +
        (this.speed.promptTokensPerSecond > 0
          ? (call.promptTokens / this.speed.promptTokensPerSecond) * 1000
          : 0);
      if (!(await this.occupy(call.seq, 'generate', generationMs, signal))) return;

      call.content = content;
      call.completionTokens = completionTokens;
      call.status = 200;
      call.outcome =
        fault?.kind === 'invalid_json' || fault?.kind === 'mismatch'
          ? fault.kind
          : finishReason === 'length'
            ? 'truncated'
            : 'ok';
      call.finishedAt = epochMs();
      sendJson(res, 200, {
        id: `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: call.model,
        choices: [
          { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason },
        ],
        usage: {
          prompt_tokens: call.promptTokens,
          completion_tokens: completionTokens,
          total_tokens: call.promptTokens + completionTokens,
        },
        system_fingerprint: call.model,
      });
    } finally {
      release();
    }
  }

  /** Holds the GPU for `ms` (or until aborted); false when the client went away first. */
  private async occupy(seq: number, kind: BusyKind, ms: number, signal: AbortSignal): Promise<boolean> {
    const interval: BusyInterval = { seq, kind, startMs: epochMs(), endMs: undefined };
    this.busyIntervals.push(interval);
    try {
      if (ms === Infinity) {
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return false;
      }
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    } finally {
      interval.endMs = epochMs();
    }
  }

  private async contentFor(
    call: FakeLlmCall,
    body: Record<string, unknown>,
    schema: unknown,
  ): Promise<string> {
    const request: FakeLlmRequest = {
      seq: call.seq,
      model: call.model ?? '',
      messages: body.messages as unknown[],
      schemaName: call.schemaName,
      schema,
      body,
    };
    const answer: unknown = this.responder ? await this.responder(request) : defaultAnswer(request);
    return typeof answer === 'string' ? answer : JSON.stringify(answer);
  }

  private tokensOf(content: string): number {
    const rule = this.completionTokens;
    if (typeof rule === 'number') return rule;
    if (typeof rule === 'function') return rule(content);
    return estimateTokens(content);
  }

  private takeFault(): { kind: FakeLlmFaultKind; status: number } | undefined {
    for (const kind of FAKE_LLM_FAULT_KINDS) {
      const armed = this.faults.get(kind);
      if (!armed) continue;
      if (armed.remaining !== 'always') {
        armed.remaining -= 1;
        if (armed.remaining <= 0) this.faults.delete(kind);
      }
      return { kind, status: armed.status };
    }
    return undefined;
  }

  private authorized(req: IncomingMessage): boolean {
    const key = this.options.apiKey;
    if (key === undefined) return true;
    return req.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() === key;
  }

  private async handleControl(
    method: string,
    path: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const route = `${method} ${path}`;
    const jsonBody = async <T>(schema: z.ZodType<T>): Promise<T | undefined> => {
      let raw: unknown;
      try {
        const text = await readBody(req);
        raw = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        sendJson(res, 400, { error: 'body must be JSON' });
        return undefined;
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        sendJson(res, 400, { error: z.prettifyError(parsed.error) });
        return undefined;
      }
      return parsed.data;
    };
    switch (route) {
      case 'GET /_fake/health':
        return sendJson(res, 200, { status: 'ok' });
      case 'GET /_fake/calls':
        return sendJson(res, 200, { calls: this.calls });
      case 'GET /_fake/busy': {
        const from = Number(url.searchParams.get('from') ?? Number.NaN);
        const to = Number(url.searchParams.get('to') ?? Number.NaN);
        const window = Number.isFinite(from) && Number.isFinite(to) ? { fromMs: from, toMs: to } : undefined;
        return sendJson(res, 200, {
          ...this.busy,
          ...(window
            ? { window: { ...window, busyMs: this.busyMsBetween(window.fromMs, window.toMs) } }
            : {}),
        });
      }
      case 'POST /_fake/fault': {
        const body = await jsonBody(faultBody);
        if (!body) return;
        this.fault(body.kind, body.count, body.status);
        return sendJson(res, 200, { armed: body });
      }
      case 'POST /_fake/speed': {
        const body = await jsonBody(speedBody);
        if (!body) return;
        this.setSpeed(body);
        return sendJson(res, 200, { speed: this.currentSpeed });
      }
      case 'POST /_fake/models': {
        const body = await jsonBody(modelsBody);
        if (!body) return;
        this.setModels(body.models);
        return sendJson(res, 200, { models: this.models });
      }
      case 'POST /_fake/recover':
        await readBody(req).catch(() => undefined);
        this.recover();
        return sendJson(res, 200, { recovered: true });
      case 'POST /_fake/reset':
        await readBody(req).catch(() => undefined);
        this.reset();
        return sendJson(res, 200, { reset: true });
      default:
        await readBody(req).catch(() => undefined);
        return sendJson(res, 404, {
          error: `unknown control ${route}; try GET /_fake/calls, GET /_fake/busy, POST /_fake/fault, POST /_fake/speed, POST /_fake/models, POST /_fake/recover, POST /_fake/reset`,
        });
    }
  }

  private internalError(res: ServerResponse, error: unknown): void {
    // A bug in the fake or its responder must look like one, not pass as a model's answer.
    const message = `fake LLM server bug: ${error instanceof Error ? error.message : String(error)}`;
    if (!res.headersSent) sendOpenAiError(res, 500, 'fake_server_error', message);
    else res.destroy();
  }
}

function initialSpeed(options: FakeLlmServerOptions): FakeLlmSpeed {
  return {
    tokensPerSecond: options.tokensPerSecond ?? 40,
    promptTokensPerSecond: options.promptTokensPerSecond ?? 0,
    modelLoadDelayMs: options.modelLoadDelayMs ?? 0,
  };
}

function jsonSchemaOf(body: Record<string, unknown>): unknown {
  const responseFormat = body.response_format as
    { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  return responseFormat?.type === 'json_schema' ? responseFormat.json_schema?.schema : undefined;
}

/** What the fake says without a responder: a schema-derived value, seeded by the conversation. */
function defaultAnswer(request: FakeLlmRequest): unknown {
  const seed = fnv1a(JSON.stringify(request.messages));
  if (request.schema !== undefined) return sampleFromJsonSchema(request.schema, seed);
  const type = (request.body.response_format as { type?: unknown } | undefined)?.type;
  if (type === 'json_object') return { answer: 'fake answer' };
  return `This is a fake completion (${seed.toString(16)}).`;
}

/** About four characters per token, as with English text and BPE tokenizers. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sendOpenAiError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { error: { message, type, param: null, code: type } });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
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
