/** The api answered with an error body, or could not be reached: fleetctl exits 1 with it. */
export class FleetApiError extends Error {
  constructor(
    /** 0 when the api did not answer at all. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'FleetApiError';
  }
}

/** A usage mistake (missing token, bad flag value): fleetctl exits 2 with it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Query = Record<string, string | number | undefined>;

export interface FleetClientOptions {
  /** The api's base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  token: string;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** @defaultValue 30000 */
  timeoutMs?: number;
}

/** JSON over HTTP to the api's admin routes, with the operator's bearer token. */
export class FleetClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: FleetClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.call<T>('GET', path, query);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, {}, body);
  }

  private async call<T>(method: string, path: string, query: Query, body?: unknown): Promise<T> {
    const url = new URL(path, this.options.baseUrl);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const reason = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new FleetApiError(0, 'UNREACHABLE', `cannot reach the api at ${url.origin}: ${reason}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new FleetApiError(
        response.status,
        'NOT_JSON',
        `HTTP ${response.status} from ${url.origin} is not JSON`,
      );
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)
        ?.error;
      throw new FleetApiError(
        response.status,
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? response.statusText,
        error?.details,
      );
    }
    return parsed as T;
  }
}
