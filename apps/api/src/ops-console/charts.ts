/**
 * The ops console's charts: a fixed set of named PromQL queries over the fleet's own metrics (the
 * names docs/observability.md lists; the dashboards in tools/observability chart the same ones).
 * Fixed on purpose: the charts endpoint runs only these, so an admin token is not a way to send
 * Prometheus arbitrary queries.
 */

/** The time ranges a chart can be asked for, with the resolution each is drawn at (~60 points). */
export const CHART_RANGES = {
  '15m': { seconds: 15 * 60, stepSeconds: 15 },
  '1h': { seconds: 60 * 60, stepSeconds: 60 },
  '6h': { seconds: 6 * 60 * 60, stepSeconds: 6 * 60 },
} as const;
export type ChartRange = keyof typeof CHART_RANGES;
export const CHART_RANGE_NAMES = Object.keys(CHART_RANGES) as ChartRange[];

/** What a query is built from. */
export interface QueryContext {
  /** The `rate()` window: four steps, at least a minute (a rate needs two scrapes in its window). */
  window: string;
  /**
   * Label matchers restricting `topic` to this fleet's namespace (`KAFKA_TOPIC_NAMESPACE`), e.g.
   * `topic=~"e2e-1a2b\\..+"`; empty without a namespace.
   */
  topics: string;
}

export interface ChartQuery {
  expr: (context: QueryContext) => string;
  /** Series name, `{{label}}` replaced by the series' label value. */
  legend: string;
}

export interface ChartDefinition {
  name: string;
  title: string;
  /** How to read the y axis. */
  unit: 'per second' | 'records' | 'events' | 'seconds' | 'state';
  description: string;
  queries: ChartQuery[];
}

const matchers = (...parts: string[]) => {
  const set = parts.filter((part) => part !== '');
  return set.length === 0 ? '' : `{${set.join(', ')}}`;
};
const ratePerTopic = (metric: string) => (c: QueryContext) =>
  `sum by (topic) (rate(${metric}${matchers(c.topics)}[${c.window}]))`;

export const CHARTS: readonly ChartDefinition[] = [
  {
    name: 'processed',
    title: 'Messages processed per second',
    unit: 'per second',
    description:
      'Messages a consumer group handled successfully, per topic (kafka_messages_processed_total).',
    queries: [{ expr: ratePerTopic('kafka_messages_processed_total'), legend: '{{topic}}' }],
  },
  {
    name: 'dead-lettered',
    title: 'Dead-lettered per second',
    unit: 'per second',
    description: 'Messages sent to a .dlq topic, per source topic (kafka_messages_dead_lettered_total).',
    queries: [{ expr: ratePerTopic('kafka_messages_dead_lettered_total'), legend: '{{topic}}' }],
  },
  {
    name: 'retries',
    title: 'Retries per second',
    unit: 'per second',
    description:
      'Messages parked on a .retry topic for a later attempt, per topic (kafka_messages_retried_total).',
    queries: [{ expr: ratePerTopic('kafka_messages_retried_total'), legend: '{{topic}}' }],
  },
  {
    name: 'consumer-lag',
    title: 'Consumer lag',
    unit: 'records',
    description:
      'Records not yet consumed, per group and topic, as each consumer reports it (kafka_consumer_lag).',
    queries: [
      {
        expr: (c) => `sum by (group, topic) (kafka_consumer_lag${matchers(c.topics)})`,
        legend: '{{group}} {{topic}}',
      },
    ],
  },
  {
    name: 'outbox-pending',
    title: 'Outbox: unpublished events',
    unit: 'events',
    description: 'Outbox rows not yet published, and rows parked after too many failures.',
    queries: [
      { expr: () => 'max(outbox_pending_events)', legend: 'pending' },
      { expr: () => 'max(outbox_parked_events)', legend: 'parked' },
    ],
  },
  {
    name: 'outbox-age',
    title: 'Outbox: oldest unpublished event',
    unit: 'seconds',
    description: 'Age of the oldest unpublished outbox row (the publish delay a new event would see).',
    queries: [{ expr: () => 'max(outbox_oldest_pending_age_seconds)', legend: 'oldest' }],
  },
  {
    name: 'breakers',
    title: 'Circuit breakers',
    unit: 'state',
    description: 'Worst state over the replicas of each breaker: 0 closed, 1 half-open, 2 open.',
    queries: [{ expr: () => 'max by (breaker) (circuit_breaker_state)', legend: '{{breaker}}' }],
  },
];

export const chartNamed = (name: string): ChartDefinition | undefined =>
  CHARTS.find((chart) => chart.name === name);

/** The query context of a range: its rate window, and the namespace's topics when there is one. */
export function queryContext(range: ChartRange, namespace: string | undefined): QueryContext {
  const windowSeconds = Math.max(60, 4 * CHART_RANGES[range].stepSeconds);
  return {
    window: `${windowSeconds}s`,
    // The namespace is one lower-case segment ([a-z][a-z0-9-]*, checked at boot): nothing to escape
    // in it; the dot after it is a regex dot, escaped once for the regex and once for PromQL's string.
    topics: namespace ? `topic=~"${namespace}\\\\..+"` : '',
  };
}

/** A series' display name: `{{label}}` in the legend replaced by the label's value. */
export function legendOf(legend: string, labels: Readonly<Record<string, string>>): string {
  return legend.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, label: string) => labels[label] ?? '');
}
