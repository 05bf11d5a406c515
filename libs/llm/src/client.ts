import { type BreakerLogger, type BreakerState } from '@fleet/circuit-breaker';
import { type Registry } from 'prom-client';
import { type z } from 'zod';
import {
  LlmEndpoint,
  type AttemptTally,
  type ChatMessage,
  type ChatRequest,
  type EndpointAnswer,
  type LlmBreakerOptions,
} from './endpoint';
import {
  LlmModelNotAvailableError,
  LlmOutputError,
  LlmUnavailableError,
  type LlmEndpointRole,
  type OutputFailure,
} from './errors';
import { assertSchemaName, strictJsonSchema } from './json-schema';
import { llmMetrics, type LlmMetrics } from './metrics';
import { parseStructuredOutput } from './output';

/** The slice of a pino-style logger the client needs. */
export type LlmLogger = BreakerLogger;

/** One OpenAI-compatible endpoint. */
export interface LlmEndpointOptions {
  /** Base URL up to and including `/v1`, e.g. `http://127.0.0.1:1234/v1` (LM Studio). */
  url: string;
  /** Model id as the endpoint's `GET /models` lists it. */
  model: string;
  /** Sent as `Authorization: Bearer …` when set. @defaultValue none */
  apiKey?: string;
  /** Requests in flight to this endpoint from this client; more wait in FIFO order. @defaultValue 1 */
  maxConcurrency?: number;
}

/** Options of {@link LlmClient}. */
export interface LlmClientOptions {
  primary: LlmEndpointOptions;
  /**
   * Used only while the primary is unavailable (its breaker open, connection refused, timeout,
   * 5xx after the retries), never because of invalid output. @defaultValue none
   */
  fallback?: LlmEndpointOptions;
  registry: Registry;
  logger: LlmLogger;
  /** Prefix of the breakers' names (`<name>-primary`, `<name>-fallback`). @defaultValue `llm` */
  name?: string;
  /**
   * One HTTP request, headers and body; time waiting for a slot is not included. Node's fetch gives
   * up on its own after 300 s without headers, so longer values do not help. @defaultValue 120000
   */
  requestTimeoutMs?: number;
  /** Further attempts after an invalid, mismatching or truncated answer. @defaultValue 2 */
  maxOutputRetries?: number;
  /** Further attempts on one endpoint after a connection error or 5xx (not after a timeout). @defaultValue 1 */
  unavailableRetries?: number;
  /** Pause before such an attempt. @defaultValue 1000 */
  unavailableRetryDelayMs?: number;
  /** Thresholds of each endpoint's breaker. @defaultValue see {@link LlmBreakerOptions} */
  breaker?: LlmBreakerOptions;
  /** `max_tokens` when a call does not say. @defaultValue 2048 */
  defaultMaxTokens?: number;
  /** Timeout of `readiness()`'s `GET /models`. @defaultValue 5000 */
  readinessTimeoutMs?: number;
}

/** One structured-output call. */
export interface CompleteJsonRequest<S extends z.ZodType, A extends z.ZodType = S> {
  messages: readonly ChatMessage[];
  /** A zod object: sent as the JSON schema and used to validate the answer. */
  schema: S;
  /**
   * Validates the answer instead of `schema`, which is still what the server is asked for: a looser
   * shape lets the caller check parts of an answer one by one (several items per call, where one
   * bad item should not cost the others). @defaultValue `schema`
   */
  accept?: A;
  /** `json_schema.name`: 1–64 letters, digits, `_`, `-`. Shows in the server's logs and ours. */
  schemaName: string;
  /** @defaultValue the server's default */
  temperature?: number;
  /** @defaultValue the client's `defaultMaxTokens` */
  maxTokens?: number;
  /** Aborts waiting and the request; the call then rejects with `LlmAbortedError`. */
  signal?: AbortSignal;
}

/** A validated answer and what it cost. */
export interface CompleteJsonResult<T> {
  value: T;
  /** Summed over every request this call made (invalid answers cost tokens too). */
  usage: { promptTokens: number; completionTokens: number };
  /** Wall time of the whole call: waiting for a slot, every attempt, retry pauses. */
  durationMs: number;
  /** The model that produced `value`, as its endpoint reported it. */
  model: string;
  /** Base URL of the endpoint that produced `value` (no credentials). */
  endpoint: string;
  /** `fallback` when the primary was unavailable. */
  endpointRole: LlmEndpointRole;
  /** HTTP requests made, on both endpoints. */
  requests: number;
}

/** What `readiness()` found. */
export interface LlmReadiness {
  endpoint: string;
  model: string;
  models: string[];
}

const DEFAULT_BREAKER: Required<LlmBreakerOptions> = {
  failureThresholdPercent: 50,
  minimumCalls: 3,
  windowMs: 300_000,
  resetTimeoutMs: 30_000,
};

/**
 * Structured output from an OpenAI-compatible chat completions API (LM Studio, llama.cpp's server,
 * vLLM, OpenRouter, OpenAI) over Node's `fetch`. Each call asks for JSON matching a zod schema
 * (`response_format: json_schema`, strict), validates the answer with the same schema and asks
 * again, a bounded number of times, when the answer is unusable. Each endpoint has its FIFO
 * concurrency limit (one GPU serves one request at a time) and its circuit breaker; an optional
 * fallback endpoint takes over only while the primary is unavailable.
 *
 * Create one per process and share it: the concurrency limit is per client.
 */
export class LlmClient {
  readonly primary: LlmEndpoint;
  readonly fallback: LlmEndpoint | undefined;
  private readonly metrics: LlmMetrics;
  private readonly logger: LlmLogger;
  private readonly maxOutputRetries: number;
  private readonly defaultMaxTokens: number;
  private readonly readinessTimeoutMs: number;

  constructor(options: LlmClientOptions) {
    const requestTimeoutMs = positiveInt(options.requestTimeoutMs ?? 120_000, 'requestTimeoutMs');
    this.maxOutputRetries = nonNegativeInt(options.maxOutputRetries ?? 2, 'maxOutputRetries');
    this.defaultMaxTokens = positiveInt(options.defaultMaxTokens ?? 2048, 'defaultMaxTokens');
    this.readinessTimeoutMs = positiveInt(options.readinessTimeoutMs ?? 5_000, 'readinessTimeoutMs');
    this.metrics = llmMetrics(options.registry);
    this.logger = options.logger;
    const shared = {
      name: options.name ?? 'llm',
      registry: options.registry,
      logger: options.logger,
      requestTimeoutMs,
      unavailableRetries: nonNegativeInt(options.unavailableRetries ?? 1, 'unavailableRetries'),
      unavailableRetryDelayMs: nonNegativeInt(
        options.unavailableRetryDelayMs ?? 1_000,
        'unavailableRetryDelayMs',
      ),
      breaker: { ...DEFAULT_BREAKER, ...options.breaker },
    };
    const endpoint = (role: LlmEndpointRole, o: LlmEndpointOptions) => {
      const url = URL.parse(o.url);
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        throw new TypeError(`LLM ${role} endpoint: url must be an absolute http(s) URL`);
      }
      if (o.model.trim() === '') throw new TypeError(`LLM ${role} endpoint: model is empty`);
      return new LlmEndpoint({
        ...shared,
        role,
        url: o.url,
        model: o.model,
        apiKey: o.apiKey,
        maxConcurrency: positiveInt(o.maxConcurrency ?? 1, `${role}.maxConcurrency`),
      });
    };
    this.primary = endpoint('primary', options.primary);
    this.fallback = options.fallback ? endpoint('fallback', options.fallback) : undefined;
  }

  /** State of each endpoint's breaker. */
  get breakerStates(): { primary: BreakerState; fallback?: BreakerState } {
    return {
      primary: this.primary.breaker.state,
      ...(this.fallback ? { fallback: this.fallback.breaker.state } : {}),
    };
  }

  /**
   * Asks for JSON matching `schema` and returns it validated.
   *
   * @throws LlmOutputError (permanent) after 1 + `maxOutputRetries` unusable answers.
   * @throws LlmUnavailableError (retriable) when neither endpoint could answer.
   * @throws LlmRequestError (permanent) when an endpoint refused the request (4xx).
   * @throws LlmAbortedError when `signal` aborted.
   * @throws TypeError for a schema strict structured output cannot express (a programmer error).
   */
  async completeJson<S extends z.ZodType, A extends z.ZodType = S>(
    request: CompleteJsonRequest<S, A>,
  ): Promise<CompleteJsonResult<z.output<A>>> {
    const started = performance.now();
    assertSchemaName(request.schemaName);
    const chat: ChatRequest = {
      messages: request.messages,
      responseFormat: {
        type: 'json_schema',
        json_schema: { name: request.schemaName, strict: true, schema: strictJsonSchema(request.schema) },
      },
      temperature: request.temperature,
      maxTokens: request.maxTokens ?? this.defaultMaxTokens,
    };
    const tally: AttemptTally = { requests: 0 };
    const usage = { promptTokens: 0, completionTokens: 0 };
    const failures: OutputFailure[] = [];
    for (let attempt = 0; attempt <= this.maxOutputRetries; attempt++) {
      const answer = await this.send(chat, request.signal, tally);
      usage.promptTokens += answer.promptTokens;
      usage.completionTokens += answer.completionTokens;
      const output = parseStructuredOutput(answer, (request.accept ?? request.schema) as A);
      this.metrics.requestDuration.observe(
        { endpoint: answer.endpoint, outcome: output.ok ? 'success' : 'invalid_output' },
        answer.durationMs / 1000,
      );
      if (output.ok) {
        return {
          value: output.value,
          usage,
          durationMs: performance.now() - started,
          model: answer.model,
          endpoint: answer.url,
          endpointRole: answer.endpoint,
          requests: tally.requests,
        };
      }
      this.metrics.errors.inc({ endpoint: answer.endpoint, class: output.reason });
      failures.push({
        reason: output.reason,
        detail: output.detail,
        excerpt: output.excerpt,
        endpoint: answer.endpoint,
      });
      this.logger.warn(
        {
          schemaName: request.schemaName,
          endpoint: answer.endpoint,
          attempt: attempt + 1,
          reason: output.reason,
          detail: output.detail,
          willRetry: attempt < this.maxOutputRetries,
        },
        'LLM answer unusable',
      );
    }
    throw new LlmOutputError(request.schemaName, failures);
  }

  /**
   * Readiness of the primary: it answers `GET /models` and lists the configured model. The fallback
   * is not probed: it is a paid remote service, and without it the service still works.
   *
   * @throws LlmModelNotAvailableError naming the model and what the endpoint has.
   * @throws LlmUnavailableError | LlmRequestError when `/models` cannot be read.
   */
  async readiness(): Promise<LlmReadiness> {
    const models = await this.primary.listModels(this.readinessTimeoutMs);
    if (!models.includes(this.primary.model)) {
      throw new LlmModelNotAvailableError(this.primary.model, this.primary.displayUrl, models);
    }
    return { endpoint: this.primary.displayUrl, model: this.primary.model, models };
  }

  /** Stops the breakers' timers. */
  shutdown(): void {
    this.primary.shutdown();
    this.fallback?.shutdown();
  }

  /** One answered request: the primary, or the fallback while the primary is unavailable. */
  private async send(
    chat: ChatRequest,
    signal: AbortSignal | undefined,
    tally: AttemptTally,
  ): Promise<EndpointAnswer> {
    try {
      return await this.primary.complete(chat, signal, tally);
    } catch (primaryError) {
      if (!(primaryError instanceof LlmUnavailableError) || !this.fallback) throw primaryError;
      this.metrics.fallbacks.inc({ reason: primaryError.reason });
      this.logger.warn(
        { endpoint: 'primary', reason: primaryError.reason, error: primaryError.message },
        'primary LLM endpoint unavailable: using the fallback endpoint',
      );
      try {
        return await this.fallback.complete(chat, signal, tally);
      } catch (fallbackError) {
        if (!(fallbackError instanceof LlmUnavailableError)) throw fallbackError;
        throw new LlmUnavailableError(
          fallbackError.reason,
          'fallback',
          `both LLM endpoints unavailable — primary: ${primaryError.message}; fallback: ${fallbackError.message}`,
          {
            status: fallbackError.status,
            retryAfterMs: minDefined(primaryError.retryAfterMs, fallbackError.retryAfterMs),
            cause: fallbackError,
          },
        );
      }
    }
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`LlmClient: ${name} must be a positive integer`);
  return value;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`LlmClient: ${name} must be an integer >= 0`);
  return value;
}
