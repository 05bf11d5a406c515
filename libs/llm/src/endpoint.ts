import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Breaker, BreakerOpenError, type BreakerLogger } from '@fleet/circuit-breaker';
import { type Registry } from 'prom-client';
import { z } from 'zod';
import {
  LlmAbortedError,
  LlmRequestError,
  LlmUnavailableError,
  type LlmEndpointRole,
  type UnavailableReason,
} from './errors';
import { llmMetrics, type LlmMetrics } from './metrics';
import { Semaphore } from './semaphore';

/** One message of the conversation sent to the model. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What one chat completion request asks for, independent of the endpoint it goes to. */
export interface ChatRequest {
  messages: readonly ChatMessage[];
  responseFormat: unknown;
  temperature: number | undefined;
  maxTokens: number;
}

/** One answered request (2xx with a readable envelope). */
export interface EndpointAnswer {
  content: string | null;
  finishReason: string | null;
  refusal: string | null;
  promptTokens: number;
  completionTokens: number;
  /** The model the server says answered, else the configured one. */
  model: string;
  durationMs: number;
  endpoint: LlmEndpointRole;
  url: string;
}

/** Breaker thresholds of each endpoint (see `@fleet/circuit-breaker`). */
export interface LlmBreakerOptions {
  /** @defaultValue 50 */
  failureThresholdPercent?: number;
  /** @defaultValue 3 */
  minimumCalls?: number;
  /** Long, because one failing call may take a whole request timeout. @defaultValue 300000 */
  windowMs?: number;
  /** @defaultValue 30000 */
  resetTimeoutMs?: number;
}

/** The settings an endpoint runs with (resolved defaults). */
export interface EndpointSettings {
  role: LlmEndpointRole;
  url: string;
  model: string;
  apiKey: string | undefined;
  maxConcurrency: number;
  requestTimeoutMs: number;
  unavailableRetries: number;
  unavailableRetryDelayMs: number;
  breaker: Required<LlmBreakerOptions>;
  /** Prefix of the breaker's name: `<name>-<role>`. */
  name: string;
  registry: Registry;
  logger: BreakerLogger;
}

/** Counts across the attempts of one call. */
export interface AttemptTally {
  requests: number;
}

const completionEnvelope = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z
          .object({
            content: z.string().nullable().optional(),
            refusal: z.string().nullable().optional(),
          })
          .nullable()
          .optional(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().nonnegative().optional(),
      completion_tokens: z.number().nonnegative().optional(),
    })
    .nullable()
    .optional(),
});

const modelsEnvelope = z.object({ data: z.array(z.object({ id: z.string() })) });

const MAX_DETAIL_CHARS = 300;

const tracer = trace.getTracer('@fleet/llm');

/**
 * One OpenAI-compatible endpoint: its concurrency slots (FIFO), its circuit breaker, the HTTP call
 * and the classification of every way it can fail. Output validity is not its business.
 */
export class LlmEndpoint {
  readonly role: LlmEndpointRole;
  readonly url: string;
  readonly model: string;
  readonly breaker: Breaker;
  private readonly slots: Semaphore;
  private readonly metrics: LlmMetrics;

  constructor(private readonly settings: EndpointSettings) {
    this.role = settings.role;
    this.url = settings.url.replace(/\/+$/, '');
    this.model = settings.model;
    this.slots = new Semaphore(settings.maxConcurrency);
    this.metrics = llmMetrics(settings.registry);
    this.breaker = new Breaker({
      name: `${settings.name}-${settings.role}`,
      registry: settings.registry,
      logger: settings.logger,
      ...settings.breaker,
      // Only "the endpoint cannot answer" says anything about its health: a rejected request or
      // an answer we cannot use came from a working server.
      isFailure: (error) => error instanceof LlmUnavailableError,
    });
  }

  /** The URL as it may appear in messages and logs: no credentials, no query. */
  get displayUrl(): string {
    return displayUrl(this.url);
  }

  /**
   * Sends the request, retrying connection errors and 5xx up to `unavailableRetries` times (never
   * timeouts: a stuck GPU is not faster the second time, and the breaker should hear of it).
   * @throws LlmUnavailableError | LlmRequestError | LlmAbortedError
   */
  async complete(
    request: ChatRequest,
    signal: AbortSignal | undefined,
    tally: AttemptTally,
  ): Promise<EndpointAnswer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(request, signal, tally);
      } catch (error) {
        const retry =
          error instanceof LlmUnavailableError &&
          (error.reason === 'connection' ||
            error.reason === 'server_error' ||
            error.reason === 'bad_response') &&
          attempt < this.settings.unavailableRetries;
        if (!retry) throw error;
        try {
          await sleep(this.settings.unavailableRetryDelayMs, undefined, { signal });
        } catch (abort) {
          throw new LlmAbortedError(undefined, { cause: abort });
        }
      }
    }
  }

  /**
   * `GET {url}/models`: the model ids the endpoint serves.
   * @throws LlmUnavailableError | LlmRequestError
   */
  async listModels(timeoutMs: number): Promise<string[]> {
    const text = await this.http('GET', '/models', undefined, undefined, timeoutMs).then((r) => r.text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw this.unavailable(
        'bad_response',
        `GET ${this.displayUrl}/models answered with non-JSON: ${excerpt(text)}`,
      );
    }
    const parsed = modelsEnvelope.safeParse(body);
    if (!parsed.success) {
      throw this.unavailable(
        'bad_response',
        `GET ${this.displayUrl}/models answered without a data[].id list: ${excerpt(text)}`,
      );
    }
    return parsed.data.data.map((m) => m.id);
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private async attempt(
    request: ChatRequest,
    signal: AbortSignal | undefined,
    tally: AttemptTally,
  ): Promise<EndpointAnswer> {
    // Fail fast before queueing: waiting minutes behind a long call only to be refused helps no one.
    if (!this.breaker.allowsCalls) throw this.breakerOpen();
    const labels = { endpoint: this.role };
    this.metrics.waiting.inc(labels);
    let release: () => void;
    try {
      release = await this.slots.acquire(signal);
    } catch (abort) {
      this.recordError('aborted');
      throw new LlmAbortedError('LLM call aborted while waiting for a free slot', { cause: abort });
    } finally {
      this.metrics.waiting.dec(labels);
    }
    try {
      return await this.breaker.run(() => this.tracedPost(request, signal, tally));
    } catch (error) {
      if (error instanceof BreakerOpenError) throw this.breakerOpen();
      throw error;
    } finally {
      release();
    }
  }

  /**
   * One chat completion request inside a CLIENT span (`chat <model>`, GenAI semantic conventions),
   * a child of the caller's span: the fleet's tracing instruments `http` only and this client uses
   * `fetch` (undici), so without it the LLM call, most of a job's time, would be missing from the
   * job's trace. A request that fails is an error span with its reason as `error.type`.
   */
  private tracedPost(
    request: ChatRequest,
    signal: AbortSignal | undefined,
    tally: AttemptTally,
  ): Promise<EndpointAnswer> {
    return tracer.startActiveSpan(
      `chat ${this.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': this.model,
          'server.address': URL.parse(this.url)?.host ?? this.displayUrl,
          'fleet.llm.endpoint': this.role,
        },
      },
      async (span) => {
        try {
          const answer = await this.post(request, signal, tally);
          span.setAttributes({
            'gen_ai.response.model': answer.model,
            'gen_ai.usage.input_tokens': answer.promptTokens,
            'gen_ai.usage.output_tokens': answer.completionTokens,
          });
          return answer;
        } catch (error) {
          const status =
            error instanceof LlmUnavailableError || error instanceof LlmRequestError
              ? error.status
              : undefined;
          span.recordException(error instanceof Error ? error : new Error(String(error)));
          span.setAttributes({
            'error.type':
              error instanceof LlmUnavailableError
                ? error.reason
                : error instanceof Error
                  ? error.name
                  : 'unknown',
            ...(status === undefined ? {} : { 'http.response.status_code': status }),
          });
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  private async post(
    request: ChatRequest,
    signal: AbortSignal | undefined,
    tally: AttemptTally,
  ): Promise<EndpointAnswer> {
    tally.requests++;
    const body = {
      model: this.model,
      messages: request.messages,
      response_format: request.responseFormat,
      max_tokens: request.maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      stream: false,
    };
    const started = performance.now();
    const labels = { endpoint: this.role };
    this.metrics.inFlight.inc(labels);
    let text: string;
    try {
      ({ text } = await this.http('POST', '/chat/completions', body, signal, this.settings.requestTimeoutMs));
    } catch (error) {
      this.observeFailure(error, started);
      throw error;
    } finally {
      this.metrics.inFlight.dec(labels);
    }
    const durationMs = performance.now() - started;

    let parsed: z.infer<typeof completionEnvelope>;
    try {
      parsed = completionEnvelope.parse(JSON.parse(text));
    } catch {
      const error = this.unavailable(
        'bad_response',
        `${this.displayUrl}/chat/completions answered 2xx without a chat completion: ${excerpt(text)}`,
      );
      this.observeFailure(error, started);
      throw error;
    }
    const [choice] = parsed.choices;
    const promptTokens = parsed.usage?.prompt_tokens ?? 0;
    const completionTokens = parsed.usage?.completion_tokens ?? 0;
    this.metrics.tokens.inc({ endpoint: this.role, direction: 'prompt' }, promptTokens);
    this.metrics.tokens.inc({ endpoint: this.role, direction: 'completion' }, completionTokens);
    if (completionTokens > 0 && durationMs > 0) {
      this.metrics.tokensPerSecond.observe(labels, completionTokens / (durationMs / 1000));
    }
    return {
      content: choice.message?.content ?? null,
      refusal: choice.message?.refusal ?? null,
      finishReason: choice.finish_reason ?? null,
      promptTokens,
      completionTokens,
      model: parsed.model ?? this.model,
      durationMs,
      endpoint: this.role,
      url: this.displayUrl,
    };
  }

  /** One HTTP exchange with a timeout covering headers and body. Classifies every failure. */
  private async http(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    const url = `${this.url}${path}`;
    const shown = `${method} ${this.displayUrl}${path}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.settings.apiKey) headers.authorization = `Bearer ${this.settings.apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: combined,
        redirect: 'error',
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw new LlmAbortedError(`${shown} aborted by the caller`, { cause: error });
      if (timeout.aborted || isUndiciTimeout(error)) {
        throw this.unavailable('timeout', `${shown}: no complete answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      throw this.unavailable('connection', `${shown} failed: ${describeCause(error)}`, { cause: error });
    }
    const { status } = response;
    if (status >= 200 && status < 300) return { status, text };
    const detail = `${shown}: HTTP ${status}: ${errorMessageOf(text)}`;
    if (status === 429) {
      throw this.unavailable('rate_limited', detail, {
        status,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      });
    }
    if (status === 408) throw this.unavailable('timeout', detail, { status });
    if (status >= 400 && status < 500) throw new LlmRequestError(status, this.role, detail);
    throw this.unavailable('server_error', detail, { status });
  }

  private observeFailure(error: unknown, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    if (error instanceof LlmUnavailableError) {
      this.metrics.requestDuration.observe({ endpoint: this.role, outcome: 'unavailable' }, seconds);
      this.recordError(error.reason);
    } else if (error instanceof LlmRequestError) {
      this.metrics.requestDuration.observe({ endpoint: this.role, outcome: 'rejected' }, seconds);
      this.recordError('rejected');
    } else if (error instanceof LlmAbortedError) {
      this.metrics.requestDuration.observe({ endpoint: this.role, outcome: 'aborted' }, seconds);
      this.recordError('aborted');
    }
  }

  private recordError(errorClass: string): void {
    this.metrics.errors.inc({ endpoint: this.role, class: errorClass });
  }

  private breakerOpen(): LlmUnavailableError {
    this.recordError('breaker_open');
    return this.unavailable(
      'breaker_open',
      `circuit breaker of the ${this.role} LLM endpoint ${this.displayUrl} is open: not calling it`,
      { retryAfterMs: this.settings.breaker.resetTimeoutMs },
    );
  }

  private unavailable(
    reason: UnavailableReason,
    message: string,
    details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ): LlmUnavailableError {
    return new LlmUnavailableError(reason, this.role, message, details);
  }
}

/** A URL without userinfo, query or fragment. */
export function displayUrl(raw: string): string {
  const url = URL.parse(raw);
  if (!url) return '(invalid URL)';
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = body.error;
    if (typeof error === 'string') return excerpt(error);
    if (
      typeof error === 'object' &&
      error !== null &&
      typeof (error as { message?: unknown }).message === 'string'
    ) {
      return excerpt((error as { message: string }).message);
    }
    if (typeof body.message === 'string') return excerpt(body.message);
  } catch {
    // Not JSON: the raw text says it best.
  }
  return text.trim() === '' ? '(empty body)' : excerpt(text);
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** undici's own header/body timeouts (300 s by default) are timeouts too, not connection errors. */
function isUndiciTimeout(error: unknown): boolean {
  const code = ((error as { cause?: { code?: unknown } } | null)?.cause as { code?: unknown } | undefined)
    ?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports the socket error (ECONNREFUSED, ECONNRESET…) as the `cause` of "fetch failed".
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return error.message;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS)}…` : flat;
}
