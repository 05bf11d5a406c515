/** Why a Prometheus query gave no answer; the charts route reports it as a 503. */
export type PrometheusErrorCode =
  'PROMETHEUS_UNREACHABLE' | 'PROMETHEUS_QUERY_FAILED' | 'PROMETHEUS_BAD_RESPONSE';

export class PrometheusError extends Error {
  constructor(
    readonly code: PrometheusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PrometheusError';
  }
}

/** One series of a range query: its labels and `[unix seconds, value]` samples. */
export interface RangeSeries {
  labels: Record<string, string>;
  samples: Array<[number, number]>;
}

/** A range query, in whole seconds. */
export interface RangeQuery {
  expr: string;
  startS: number;
  endS: number;
  stepS: number;
}

interface MatrixBody {
  status?: string;
  error?: string;
  errorType?: string;
  data?: {
    resultType?: string;
    result?: Array<{ metric?: Record<string, string>; values?: [number, string][] }>;
  };
}

/**
 * Just `/api/v1/query_range`, over fetch. The base URL may carry a path prefix
 * (`https://ops.example.com/prometheus`), as Prometheus behind `--web.route-prefix` has.
 */
export class PrometheusClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    /** @defaultValue 10000 */
    private readonly timeoutMs = 10_000,
  ) {
    this.base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  /** Where the queries go, for messages (the origin and path; never credentials in the URL). */
  get origin(): string {
    const url = new URL(this.base);
    return `${url.origin}${url.pathname}`.replace(/\/$/, '');
  }

  async queryRange(query: RangeQuery): Promise<RangeSeries[]> {
    const url = new URL('api/v1/query_range', this.base);
    const form = new URLSearchParams({
      query: query.expr,
      start: String(query.startS),
      end: String(query.endS),
      step: String(query.stepS),
    });
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new PrometheusError(
        'PROMETHEUS_UNREACHABLE',
        `Prometheus at ${this.origin} did not answer: ${(cause as Error).message}`,
        { cause },
      );
    }
    let body: MatrixBody;
    try {
      body = (await response.json()) as MatrixBody;
    } catch (cause) {
      throw new PrometheusError(
        'PROMETHEUS_BAD_RESPONSE',
        `Prometheus at ${this.origin} answered HTTP ${response.status} without a JSON body`,
        { cause },
      );
    }
    if (body.status !== 'success') {
      throw new PrometheusError(
        'PROMETHEUS_QUERY_FAILED',
        `Prometheus at ${this.origin} refused the query (HTTP ${response.status}, ${body.errorType ?? 'error'}: ${body.error ?? 'no reason given'})`,
      );
    }
    if (body.data?.resultType !== 'matrix' || !Array.isArray(body.data.result)) {
      throw new PrometheusError(
        'PROMETHEUS_BAD_RESPONSE',
        `Prometheus at ${this.origin} answered a ${String(body.data?.resultType)} where a matrix was expected`,
      );
    }
    return body.data.result.map((series) => ({
      labels: series.metric ?? {},
      samples: (series.values ?? []).map(([at, value]) => [Number(at), Number(value)] as [number, number]),
    }));
  }
}

/**
 * Samples on a shared time axis (what uPlot draws): `timestamps` from `startS` to `endS` every
 * `stepS`, and per series one value per timestamp, null where Prometheus had no sample (a series
 * that began later, a gap in scrapes). Prometheus evaluates a range query at exactly
 * `start + k·step`, so samples fall on the axis; any that do not are dropped. NaN and ±Inf (a
 * division by zero in a query) become null too: JSON has no such numbers.
 */
export function alignSeries(
  series: readonly RangeSeries[],
  startS: number,
  endS: number,
  stepS: number,
): { timestamps: number[]; values: Array<Array<number | null>> } {
  const timestamps: number[] = [];
  for (let at = startS; at <= endS; at += stepS) timestamps.push(at);
  const values = series.map((s) => {
    const row = new Array<number | null>(timestamps.length).fill(null);
    for (const [at, value] of s.samples) {
      const index = (at - startS) / stepS;
      if (Number.isInteger(index) && index >= 0 && index < row.length && Number.isFinite(value)) {
        row[index] = value;
      }
    }
    return row;
  });
  return { timestamps, values };
}
