import { CHART_RANGES, legendOf, queryContext, type ChartDefinition, type ChartRange } from './charts';
import { alignSeries, type PrometheusClient } from './prometheus';

export interface ChartRead {
  range: ChartRange;
  stepSeconds: number;
  timestamps: number[];
  series: Array<{ name: string; labels: Record<string, string>; values: Array<number | null> }>;
}

/**
 * Runs a chart's queries over `range` up to now and puts every series on one time axis. The axis
 * ends on a multiple of the step, so two reads a few seconds apart share their points (and a
 * console refreshing every few seconds does not see its lines wobble).
 */
export async function readChart(
  prometheus: PrometheusClient,
  chart: ChartDefinition,
  range: ChartRange,
  options: { namespace: string | undefined; nowS: number },
): Promise<ChartRead> {
  const { seconds, stepSeconds } = CHART_RANGES[range];
  const endS = Math.floor(options.nowS / stepSeconds) * stepSeconds;
  const startS = endS - seconds;
  const context = queryContext(range, options.namespace);
  const results = await Promise.all(
    chart.queries.map(async (query) => ({
      legend: query.legend,
      series: await prometheus.queryRange({ expr: query.expr(context), startS, endS, stepS: stepSeconds }),
    })),
  );
  const named = results.flatMap(({ legend, series }) =>
    series.map((s) => ({ name: legendOf(legend, s.labels), labels: s.labels, samples: s.samples })),
  );
  named.sort((a, b) => a.name.localeCompare(b.name));
  const { timestamps, values } = alignSeries(named, startS, endS, stepSeconds);
  return {
    range,
    stepSeconds,
    timestamps,
    series: named.map((s, i) => ({ name: s.name, labels: s.labels, values: values[i]! })),
  };
}
