/**
 * The fleet's Grafana dashboards, as code (@grafana/grafana-foundation-sdk). `npm run
 * render:observability` writes them to deploy/grafana/dashboards/ (docker-compose's Grafana) and
 * the Helm chart's files/; a test keeps the committed JSON current, and another runs every query
 * below against a real Prometheus scraping the real apps, so a panel that would show nothing fails
 * the suite by name.
 *
 * Seed 004's queries, under the names the fleet exports (docs/observability.md lists the aliases):
 * `messages_processed_total` → `kafka_messages_processed_total`, `worker_processing_duration_seconds`
 * → `kafka_handler_duration_seconds`, `dlq_messages_total` → `kafka_messages_dead_lettered_total`;
 * `outbox_pending_events` and `redis_fallback_queue_length` keep their names.
 */
import { type Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  RowBuilder,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel queries the dashboard's `datasource` variable: any Prometheus the user picks. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  legend?: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  /** A single current number instead of a graph. */
  stat?: boolean;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
}

const RATE = '[$__rate_interval]';
const rate = (metric: string, by: string, filter = '') => `sum by (${by}) (rate(${metric}${filter}${RATE}))`;
const p99 = (metric: string, by: string, filter = '') =>
  `histogram_quantile(0.99, sum by (le, ${by}) (rate(${metric}_bucket${filter}${RATE})))`;

/** Consumer lag of one request topic (and its retry companion), summed over partitions. */
const lagOf = (topic: string) => `sum by (group) (kafka_consumer_lag{topic=~".*${topic}(\\\\.retry)?"})`;

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'fleet-overview',
    title: 'Fleet / Overview',
    description:
      "Seed 004's five questions, per topic: throughput, p99 handling time, dead letters, outbox backlog, fallback backlog.",
    rows: [
      {
        title: 'Workers',
        panels: [
          {
            title: 'Messages processed',
            description:
              'rate(messages_processed_total) in seed 004: records handled successfully, by topic.',
            queries: [{ expr: rate('kafka_messages_processed_total', 'topic'), legend: '{{topic}}' }],
            unit: 'ops',
          },
          {
            title: 'Processing latency p99',
            description: 'worker_processing_duration_seconds in seed 004: one handler run, by topic.',
            queries: [{ expr: p99('kafka_handler_duration_seconds', 'topic'), legend: '{{topic}}' }],
            unit: 's',
          },
          {
            title: 'Dead-lettered',
            description: 'dlq_messages_total in seed 004: records sent to a .dlq topic, by topic.',
            queries: [{ expr: rate('kafka_messages_dead_lettered_total', 'topic'), legend: '{{topic}}' }],
            unit: 'ops',
          },
          {
            title: 'Targets up',
            description: 'Scraped app processes answering /metrics, by job.',
            queries: [{ expr: 'sum by (job) (up)', legend: '{{job}}' }],
          },
        ],
      },
      {
        title: 'Backlogs',
        panels: [
          {
            title: 'Outbox pending events',
            description: 'Rows written by a transaction, not yet published to Kafka.',
            queries: [{ expr: 'max(outbox_pending_events)', legend: 'pending' }],
            stat: true,
          },
          {
            title: 'Redis fallback queue length',
            description: 'Records the api could not hand to Kafka, waiting for redis-backfill.',
            queries: [{ expr: 'max(redis_fallback_queue_length)', legend: 'queued' }],
            stat: true,
          },
          {
            title: 'API requests',
            description: 'HTTP requests answered, by status code.',
            queries: [{ expr: rate('http_request_duration_seconds_count', 'status'), legend: '{{status}}' }],
            unit: 'reqps',
          },
          {
            title: 'API latency p99',
            description: 'HTTP request duration, by route.',
            queries: [{ expr: p99('http_request_duration_seconds', 'route'), legend: '{{route}}' }],
            unit: 's',
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-kafka',
    title: 'Fleet / Kafka consumers',
    description: 'Consumer lag per group and topic (what to scale workers on), throughput, rebalances.',
    rows: [
      {
        title: 'Consumers',
        panels: [
          {
            title: 'Consumer lag',
            description: 'Records behind the log end, summed over partitions, by group and topic.',
            queries: [{ expr: 'sum by (group, topic) (kafka_consumer_lag)', legend: '{{group}} {{topic}}' }],
          },
          {
            title: 'Consumed',
            description: 'Records fetched by the consumers, by group.',
            queries: [{ expr: rate('kafka_messages_consumed_total', 'group'), legend: '{{group}}' }],
            unit: 'ops',
          },
          {
            title: 'Produced',
            description: 'Records acknowledged by the brokers, by topic.',
            queries: [{ expr: rate('kafka_messages_produced_total', 'topic'), legend: '{{topic}}' }],
            unit: 'ops',
          },
          {
            title: 'Group joins',
            description: 'Rebalances: a member joined its group (a replica started, died or was too slow).',
            queries: [
              {
                expr: `sum by (group) (increase(kafka_consumer_group_joins_total${RATE}))`,
                legend: '{{group}}',
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-retries',
    title: 'Fleet / Retries and dead letters',
    description: 'Failed handler runs, retries, dead letters per topic and reason, the Redis fallback path.',
    rows: [
      {
        title: 'Kafka',
        panels: [
          {
            title: 'Failed handler runs',
            description: 'By topic and outcome (retry, dlq, crash).',
            queries: [
              {
                expr: rate('kafka_messages_failed_total', 'topic, outcome'),
                legend: '{{topic}} {{outcome}}',
              },
            ],
            unit: 'ops',
          },
          {
            title: 'Retried',
            description: 'Records sent to a .retry topic, by topic.',
            queries: [{ expr: rate('kafka_messages_retried_total', 'topic'), legend: '{{topic}}' }],
            unit: 'ops',
          },
          {
            title: 'Dead-lettered by reason',
            description: 'Records sent to a .dlq topic, by topic and reason code.',
            queries: [
              {
                expr: rate('kafka_messages_dead_lettered_total', 'topic, reason'),
                legend: '{{topic}} {{reason}}',
              },
            ],
            unit: 'ops',
          },
        ],
      },
      {
        title: 'Redis fallback',
        panels: [
          {
            title: 'Fallback lists',
            description:
              'Records waiting for redis-backfill, claimed by it and not yet acknowledged, and never sent.',
            queries: [
              { expr: 'max(redis_fallback_queue_length)', legend: 'queued' },
              { expr: 'max(redis_fallback_processing_length)', legend: 'processing' },
              { expr: 'max(redis_fallback_dead_length)', legend: 'dead' },
            ],
          },
          {
            title: 'Fallback dead list by reason',
            description: 'Fallback entries that could not be sent, by reason.',
            queries: [{ expr: rate('redis_fallback_dead_lettered_total', 'reason'), legend: '{{reason}}' }],
            unit: 'ops',
          },
          {
            title: 'Requeued',
            description: 'Claimed records put back at the head of the queue after a failed send.',
            queries: [{ expr: `sum(rate(redis_fallback_requeued_total${RATE}))`, legend: 'requeued' }],
            unit: 'ops',
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-outbox',
    title: 'Fleet / Outbox',
    description:
      'The transactional outbox: backlog, age of its oldest event, publish rate, the breaker in front of Kafka.',
    rows: [
      {
        title: 'Outbox',
        panels: [
          {
            title: 'Pending and parked',
            description: 'Events waiting to be published; parked: given up on after repeated failures.',
            queries: [
              { expr: 'max(outbox_pending_events)', legend: 'pending' },
              { expr: 'max(outbox_parked_events)', legend: 'parked' },
            ],
          },
          {
            title: 'Oldest pending event',
            description: 'Age of the oldest unpublished event: the outbox delay a reader sees at worst.',
            queries: [{ expr: 'max(outbox_oldest_pending_age_seconds)', legend: 'oldest' }],
            unit: 's',
          },
          {
            title: 'Published',
            description: 'Events published, by topic.',
            queries: [{ expr: rate('outbox_published_total', 'topic'), legend: '{{topic}}' }],
            unit: 'ops',
          },
          {
            title: 'Publish latency p99',
            description: 'One batch handed to Kafka and marked published.',
            queries: [
              {
                expr: `histogram_quantile(0.99, sum by (le) (rate(outbox_publish_duration_seconds_bucket${RATE})))`,
                legend: 'p99',
              },
            ],
            unit: 's',
          },
          {
            title: 'Publish failures',
            description: 'By kind.',
            queries: [{ expr: rate('outbox_publish_failures_total', 'kind'), legend: '{{kind}}' }],
            unit: 'ops',
          },
        ],
      },
      {
        title: 'Circuit breakers',
        panels: [
          {
            title: 'Breaker state',
            description: '0 closed, 1 half-open, 2 open; by breaker, across replicas the worst.',
            queries: [{ expr: 'max by (breaker) (circuit_breaker_state)', legend: '{{breaker}}' }],
          },
          {
            title: 'Breaker calls',
            description: 'Calls through each breaker, by result (success, failure, rejected while open).',
            queries: [
              {
                expr: rate('circuit_breaker_calls_total', 'breaker, result'),
                legend: '{{breaker}} {{result}}',
              },
            ],
            unit: 'ops',
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-chat',
    title: 'Fleet / Chat delivery',
    description:
      'Messages accepted by the api, delivered by the message-router per channel, statuses from the channels.',
    rows: [
      {
        title: 'Per channel',
        panels: [
          {
            title: 'Accepted',
            description: 'Messages accepted at POST /v1/conversations/:id/messages, by channel.',
            queries: [{ expr: rate('chat_messages_accepted_total', 'channel'), legend: '{{channel}}' }],
            unit: 'ops',
          },
          {
            title: 'Deliveries',
            description: 'Deliveries the router finished, by channel and outcome (sent, failed …).',
            queries: [
              {
                expr: rate('router_deliveries_total', 'channel, outcome'),
                legend: '{{channel}} {{outcome}}',
              },
            ],
            unit: 'ops',
          },
          {
            title: 'Statuses',
            description: 'Status webhooks applied (delivered, read, failed …), by channel and outcome.',
            queries: [
              {
                expr: rate('chat_status_updates_total', 'channel, outcome'),
                legend: '{{channel}} {{outcome}}',
              },
            ],
            unit: 'ops',
          },
          {
            title: 'Channel call latency p99',
            description: 'One WhatsApp / Instagram API call, by channel.',
            queries: [
              { expr: p99('router_channel_call_duration_seconds', 'channel'), legend: '{{channel}}' },
            ],
            unit: 's',
          },
          {
            title: 'Channel 429s',
            description: 'Channel calls answered 429 (rate limited), by channel.',
            queries: [
              {
                expr: rate(
                  'router_channel_call_duration_seconds_count',
                  'channel',
                  '{result="RATE_LIMITED"}',
                ),
                legend: '{{channel}}',
              },
            ],
            unit: 'ops',
          },
          {
            title: 'Live connections',
            description: 'Conversation WebSockets open on the api.',
            queries: [{ expr: 'sum(chat_websocket_connections)', legend: 'sockets' }],
            stat: true,
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-uploads',
    title: 'Fleet / Uploads and merges',
    description: 'Chunked uploads at the api, merges by file-merge, cleanup by upload-gc.',
    rows: [
      {
        title: 'Uploads',
        panels: [
          {
            title: 'Chunks',
            description: 'Chunk PUTs, by outcome.',
            queries: [{ expr: rate('upload_chunks_total', 'outcome'), legend: '{{outcome}}' }],
            unit: 'ops',
          },
          {
            title: 'Bytes received',
            description: 'Upload bytes streamed into object storage by the api.',
            queries: [{ expr: 'sum(rate(upload_bytes_received_total[$__rate_interval]))', legend: 'bytes' }],
            unit: 'Bps',
          },
          {
            title: 'Merges',
            description: 'Merges finished by file-merge, by outcome.',
            queries: [{ expr: rate('file_merges_total', 'outcome'), legend: '{{outcome}}' }],
            unit: 'ops',
          },
          {
            title: 'Merge duration p99',
            description: 'One merge (compose or stream), by outcome.',
            queries: [{ expr: p99('file_merge_duration_seconds', 'outcome'), legend: '{{outcome}}' }],
            unit: 's',
          },
        ],
      },
      {
        title: 'Garbage collection',
        panels: [
          {
            title: 'Uploads cleaned',
            description: 'Abandoned uploads whose chunks upload-gc removed.',
            queries: [{ expr: `sum(increase(uploads_cleaned_total${RATE}))`, legend: 'cleaned' }],
          },
          {
            title: 'GC errors',
            description: 'By kind.',
            queries: [{ expr: rate('upload_gc_errors_total', 'kind'), legend: '{{kind}}' }],
            unit: 'ops',
          },
          {
            title: 'GC run duration',
            description: 'The last run of upload-gc.',
            queries: [{ expr: 'max(upload_gc_run_duration_seconds)', legend: 'last run' }],
            unit: 's',
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-jobs',
    title: 'Fleet / Jobs and the LLM',
    description: 'Background jobs per kind (generation, pools, exports) and the local LLM they run on.',
    rows: [
      {
        title: 'Jobs',
        panels: [
          {
            title: 'Jobs created',
            description: 'Jobs created at the api, by kind.',
            queries: [{ expr: rate('jobs_created_total', 'kind'), legend: '{{kind}}' }],
            unit: 'ops',
          },
          {
            title: 'Queue depth',
            description:
              'Job requests waiting in Kafka (consumer lag of each worker group on its request topic).',
            queries: [
              { expr: lagOf('generation.job.requested.1'), legend: '{{group}}' },
              { expr: lagOf('pool.job.requested.1'), legend: '{{group}}' },
              { expr: lagOf('export.job.requested.1'), legend: '{{group}}' },
            ],
          },
          {
            title: 'Jobs in flight',
            description: 'Jobs running now, by worker.',
            queries: [
              { expr: 'sum(generation_jobs_in_flight)', legend: 'generation' },
              { expr: 'sum(pool_filler_jobs_in_flight)', legend: 'pool-filler' },
              { expr: 'sum(exporter_jobs_in_flight)', legend: 'exporter' },
            ],
          },
          {
            title: 'Job outcomes',
            description:
              'Job requests handled, by kind and outcome (completed, retried, failed, released …).',
            queries: [
              { expr: rate('generation_jobs_total', 'kind, outcome'), legend: '{{kind}} {{outcome}}' },
              { expr: rate('pool_filler_jobs_total', 'kind, outcome'), legend: '{{kind}} {{outcome}}' },
              { expr: rate('exporter_jobs_total', 'kind, outcome'), legend: '{{kind}} {{outcome}}' },
            ],
            unit: 'ops',
          },
        ],
      },
      {
        title: 'LLM',
        panels: [
          {
            title: 'GPU busy fraction',
            description:
              'Seconds of LLM requests per second, capped at 1: the share of time the endpoint worked.',
            queries: [
              {
                expr: `clamp_max(sum by (endpoint) (rate(llm_request_duration_seconds_sum${RATE})), 1)`,
                legend: '{{endpoint}}',
              },
            ],
            unit: 'percentunit',
          },
          {
            title: 'Tokens per second',
            description: 'Tokens generated, by endpoint.',
            queries: [
              {
                expr: rate('llm_tokens_total', 'endpoint', '{direction="completion"}'),
                legend: '{{endpoint}}',
              },
            ],
          },
          {
            title: 'LLM failures',
            description: 'Failed LLM calls, by class (timeout, unavailable, invalid output …).',
            queries: [{ expr: rate('llm_errors_total', 'class'), legend: '{{class}}' }],
            unit: 'ops',
          },
          {
            title: 'Requests waiting for the LLM',
            description: 'Calls queued behind the concurrency limit, and in flight, by endpoint.',
            queries: [
              { expr: 'sum by (endpoint) (llm_requests_waiting)', legend: 'waiting {{endpoint}}' },
              { expr: 'sum by (endpoint) (llm_requests_in_flight)', legend: 'in flight {{endpoint}}' },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-pools',
    title: 'Fleet / Content pools',
    description:
      'Pre-generated game content per pool and campaign: stock against its minimum, refills, claims.',
    rows: [
      {
        title: 'Pools',
        panels: [
          {
            title: 'Available vs minimum',
            description: 'Unclaimed items and the minimum that triggers a refill, by pool.',
            queries: [
              { expr: 'sum by (pool) (pool_items_available)', legend: 'available {{pool}}' },
              { expr: 'sum by (pool) (pool_items_minimum)', legend: 'minimum {{pool}}' },
            ],
          },
          {
            title: 'Claims',
            description: 'Items claimed through the api, by pool and outcome.',
            queries: [{ expr: rate('pool_claims_total', 'pool, outcome'), legend: '{{pool}} {{outcome}}' }],
            unit: 'ops',
          },
          {
            title: 'Generated and rejected',
            description: 'Items the pool-filler stored, and those it rejected (duplicate, invalid …).',
            queries: [
              { expr: rate('pool_items_generated_total', 'pool'), legend: 'generated {{pool}}' },
              {
                expr: rate('pool_items_rejected_total', 'pool, reason'),
                legend: 'rejected {{pool}} {{reason}}',
              },
            ],
            unit: 'ops',
          },
          {
            title: 'Refill jobs',
            description: 'Refill jobs by pool and status.',
            queries: [{ expr: 'sum by (pool, status) (pool_refill_jobs)', legend: '{{pool}} {{status}}' }],
          },
        ],
      },
    ],
  },
  {
    uid: 'fleet-exports',
    title: 'Fleet / Exports',
    description:
      'Engine bundles built by the exporter: outcomes per engine, bytes written, build time, callbacks.',
    rows: [
      {
        title: 'Exports',
        panels: [
          {
            title: 'Bundles',
            description: 'Bundles finished, by engine and outcome.',
            queries: [
              { expr: rate('exporter_bundles_total', 'engine, outcome'), legend: '{{engine}} {{outcome}}' },
            ],
            unit: 'ops',
          },
          {
            title: 'Bytes written',
            description: 'Archive bytes streamed into object storage, by engine.',
            queries: [{ expr: rate('exporter_bundle_bytes_total', 'engine'), legend: '{{engine}}' }],
            unit: 'Bps',
          },
          {
            title: 'Build duration p99',
            description: 'One bundle, by engine.',
            queries: [{ expr: p99('exporter_bundle_duration_seconds', 'engine'), legend: '{{engine}}' }],
            unit: 's',
          },
          {
            title: 'Callback deliveries',
            description: 'Signed webhook deliveries, by event type and outcome.',
            queries: [
              {
                expr: rate('exporter_callback_deliveries_total', 'type, outcome'),
                legend: '{{type}} {{outcome}}',
              },
            ],
            unit: 'ops',
          },
        ],
      },
    ],
  },
];

const WIDTH = 24;

/** One dashboard as Grafana's JSON model: rows of panels, two or three to a line. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['fleet', 'generated'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'));
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    builder.withRow(new RowBuilder(row.title).id(id++).gridPos({ h: 1, w: WIDTH, x: 0, y }));
    y += 1;
    const perLine = row.panels.length % 3 === 0 ? 3 : 2;
    const w = WIDTH / perLine;
    row.panels.forEach((panel, index) => {
      const gridPos = { h: 8, w, x: (index % perLine) * w, y: y + Math.floor(index / perLine) * 8 };
      builder.withPanel(panelOf(panel).id(id++).gridPos(gridPos));
    });
    y += Math.ceil(row.panels.length / perLine) * 8;
  }
  return builder.build();
}

function panelOf(spec: PanelSpec): TimeseriesPanel | StatPanel {
  const targets = spec.queries.map((query, index) =>
    new DataqueryBuilder()
      .expr(query.expr)
      .legendFormat(query.legend ?? '__auto')
      .refId(String.fromCharCode(65 + index))
      .datasource(DATASOURCE),
  );
  const panel = spec.stat ? new StatPanel() : new TimeseriesPanel();
  panel.title(spec.title).description(spec.description).datasource(DATASOURCE);
  for (const target of targets) panel.withTarget(target as unknown as { build(): Dataquery });
  if (spec.unit) panel.unit(spec.unit);
  return panel;
}

/** Every query of every dashboard, named for a failure message. */
export function allQueries(): { dashboard: string; panel: string; expr: string }[] {
  return DASHBOARDS.flatMap((d) =>
    d.rows.flatMap((r) =>
      r.panels.flatMap((p) => p.queries.map((q) => ({ dashboard: d.title, panel: p.title, expr: q.expr }))),
    ),
  );
}
