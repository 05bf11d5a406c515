/**
 * The fleet's Prometheus alert rules, as code. Each alert is a `signal` — a query that returns a
 * series whenever the fleet runs, firing or not — and the `condition` that makes it fire, so the
 * live completeness test can check every signal against the real apps (a misspelt metric returns
 * nothing there) while `promtool test rules` checks each alert fires and resolves on the cases
 * below. `npm run render:observability` writes deploy/prometheus/rules/fleet-alerts.yml, its
 * promtool test file, and the chart's copy (shipped as a PrometheusRule when enabled).
 */

export interface SeriesCase {
  series: string;
  /** promtool's expanding notation: `0+1x30`, `5x20 0x20`, one sample a minute. */
  values: string;
}

export interface AlertSpec {
  alert: string;
  /** Returns series in normal operation (firing or not). */
  signal: string;
  /** Appended to the signal: the expression is `<signal> <condition>`. */
  condition: string;
  for: string;
  severity: 'warning' | 'critical';
  summary: string;
  /** What to look at first (annotations.runbook). */
  runbook: string;
  /**
   * promtool case: input series (1 m interval), a time it fires with `labels` and its summary as
   * rendered, a time it is resolved.
   */
  test: {
    input: SeriesCase[];
    firingAt: string;
    labels: Record<string, string>;
    summary: string;
    resolvedAt: string;
  };
}

export const ALERT_GROUP = 'fleet';

export const ALERTS: AlertSpec[] = [
  {
    alert: 'FleetTargetDown',
    signal: 'up',
    condition: '== 0',
    for: '2m',
    severity: 'critical',
    summary: '{{ $labels.job }} on {{ $labels.instance }} does not answer /metrics',
    runbook:
      'The process is down or its health port is unreachable: kubectl describe pod / tools/fleet status; its last log lines say why it exited.',
    test: {
      input: [{ series: 'up{job="message-router", instance="10.0.0.5:9474"}', values: '1 1 0x5 1x5' }],
      firingAt: '5m',
      labels: { job: 'message-router', instance: '10.0.0.5:9474' },
      summary: 'message-router on 10.0.0.5:9474 does not answer /metrics',
      resolvedAt: '9m',
    },
  },
  {
    alert: 'FleetDeadLettersGrowing',
    signal: 'sum by (topic) (increase(kafka_messages_dead_lettered_total[10m]))',
    condition: '> 0',
    for: '0m',
    severity: 'warning',
    summary: 'records of {{ $labels.topic }} are being dead-lettered',
    runbook:
      'Read the newest records of <topic>.dlq: their x-dlq-reason and x-dlq-error-* headers name the failure; fix the cause, then replay them by producing each value back to its x-original-topic with the same key (ADR 0002).',
    test: {
      input: [
        {
          series:
            'kafka_messages_dead_lettered_total{topic="chat.message.outgoing.1", group="message-router", reason="SCHEMA_INVALID"}',
          values: '0x5 1 2 2x20',
        },
      ],
      firingAt: '7m',
      labels: { topic: 'chat.message.outgoing.1' },
      summary: 'records of chat.message.outgoing.1 are being dead-lettered',
      resolvedAt: '20m',
    },
  },
  {
    alert: 'FleetConsumerLagGrowing',
    signal: 'sum by (group, topic) (kafka_consumer_lag)',
    condition: '> 0 and sum by (group, topic) (delta(kafka_consumer_lag[5m])) > 0',
    for: '10m',
    severity: 'warning',
    summary: '{{ $labels.group }} falls behind on {{ $labels.topic }}',
    runbook:
      'The group consumes slower than records arrive: scale the worker (replicaCount), or look for a slow dependency in its p99 handling time and breaker state.',
    test: {
      input: [
        {
          series: 'kafka_consumer_lag{group="generation", topic="generation.job.requested.1", partition="0"}',
          values: '0+10x20 0x10',
        },
      ],
      firingAt: '18m',
      labels: { group: 'generation', topic: 'generation.job.requested.1' },
      summary: 'generation falls behind on generation.job.requested.1',
      resolvedAt: '25m',
    },
  },
  {
    alert: 'FleetOutboxStale',
    signal: 'max(outbox_oldest_pending_age_seconds)',
    condition: '> 300',
    for: '2m',
    severity: 'critical',
    summary: 'the oldest outbox event has waited {{ $value | humanizeDuration }}',
    runbook:
      'The outbox-poller is not publishing: is it running, is its Kafka breaker open (circuit_breaker_state), are events parked? Its logs name the failing publish.',
    test: {
      input: [{ series: 'outbox_oldest_pending_age_seconds{job="outbox-poller"}', values: '0+60x10 0x10' }],
      firingAt: '9m',
      labels: {},
      summary: 'the oldest outbox event has waited 9m 0s',
      resolvedAt: '15m',
    },
  },
  {
    alert: 'FleetCircuitBreakerOpen',
    signal: 'max by (breaker) (circuit_breaker_state)',
    condition: '== 2',
    for: '1m',
    severity: 'warning',
    summary: 'circuit breaker {{ $labels.breaker }} is open',
    runbook:
      'The dependency behind the breaker (Kafka, a channel API, the LLM) keeps failing: check it first; the breaker probes by itself and closes once it answers.',
    test: {
      input: [
        { series: 'circuit_breaker_state{breaker="kafka-producer", job="api"}', values: '0 0 2x5 0x5' },
      ],
      firingAt: '5m',
      labels: { breaker: 'kafka-producer' },
      summary: 'circuit breaker kafka-producer is open',
      resolvedAt: '9m',
    },
  },
  {
    alert: 'FleetFallbackNotDraining',
    signal: 'max(redis_fallback_queue_length)',
    condition: '> 0 and max(delta(redis_fallback_queue_length[10m])) >= 0',
    for: '10m',
    severity: 'critical',
    summary: '{{ $value }} records wait in the Redis fallback list and it does not shrink',
    runbook:
      'redis-backfill is not draining: is one replica active (redis_fallback_drainer_active), is Kafka reachable from it? Its logs name the failing send.',
    test: {
      input: [{ series: 'redis_fallback_queue_length{job="redis-backfill"}', values: '0 0 5+1x20 0x10' }],
      firingAt: '20m',
      labels: {},
      summary: '23 records wait in the Redis fallback list and it does not shrink',
      resolvedAt: '26m',
    },
  },
  {
    alert: 'FleetUploadGcFailing',
    signal: 'sum by (kind) (increase(upload_gc_errors_total[2h]))',
    condition: '> 0',
    for: '0m',
    severity: 'warning',
    summary: 'upload-gc runs fail ({{ $labels.kind }})',
    runbook:
      'Abandoned uploads are not cleaned: read the last upload-gc job log (kubectl logs job/...); object_store → MinIO, database → PostgreSQL.',
    test: {
      input: [
        { series: 'upload_gc_errors_total{kind="object_store", job="upload-gc"}', values: '0x5 1x10 1x120' },
      ],
      firingAt: '10m',
      labels: { kind: 'object_store' },
      summary: 'upload-gc runs fail (object_store)',
      resolvedAt: '130m',
    },
  },
  {
    alert: 'FleetLlmEndpointDown',
    signal: 'sum by (endpoint) (increase(llm_request_duration_seconds_count[5m]))',
    condition:
      '> 0 and sum by (endpoint) (increase(llm_request_duration_seconds_count{outcome="success"}[5m])) == 0',
    for: '5m',
    severity: 'critical',
    summary: 'no request to the LLM endpoint {{ $labels.endpoint }} succeeds',
    runbook:
      'Every call fails: is the OpenAI-compatible server (LM Studio) up and its model loaded? llm_errors_total by class says whether it times out, refuses or is unreachable.',
    test: {
      input: [
        {
          series: 'llm_request_duration_seconds_count{endpoint="primary", outcome="unavailable"}',
          values: '0+2x15 30x10',
        },
        {
          series: 'llm_request_duration_seconds_count{endpoint="primary", outcome="success"}',
          values: '5x15 5+3x10',
        },
      ],
      firingAt: '12m',
      labels: { endpoint: 'primary' },
      summary: 'no request to the LLM endpoint primary succeeds',
      resolvedAt: '20m',
    },
  },
  {
    alert: 'FleetGpuIdleWhileJobsWait',
    signal: `sum(kafka_consumer_lag{topic=~".*(generation|pool)\\\\.job\\\\.requested\\\\.1(\\\\.retry)?"})`,
    condition: '> 0 and on () sum(llm_requests_in_flight) == 0',
    for: '10m',
    severity: 'warning',
    summary: '{{ $value }} LLM jobs wait while no LLM request runs',
    runbook:
      'Jobs queue but the workers do not call the LLM: are generation / pool-filler replicas running and consuming (group joins), or is their LLM breaker open?',
    test: {
      input: [
        {
          series: 'kafka_consumer_lag{group="generation", topic="generation.job.requested.1", partition="0"}',
          values: '4x30',
        },
        { series: 'llm_requests_in_flight{endpoint="primary"}', values: '0x15 1x15' },
      ],
      firingAt: '13m',
      labels: {},
      summary: '4 LLM jobs wait while no LLM request runs',
      resolvedAt: '20m',
    },
  },
  {
    alert: 'FleetPoolBelowMinimum',
    signal: 'sum by (pool, campaign) (pool_items_available)',
    condition: '< sum by (pool, campaign) (pool_items_minimum)',
    for: '15m',
    severity: 'warning',
    summary: 'pool {{ $labels.pool }} of campaign {{ $labels.campaign }} stays below its minimum',
    runbook:
      'Refills do not keep up with claims: look at pool_refill_jobs by status and the pool-filler job outcomes; a failing LLM shows in llm_errors_total.',
    test: {
      input: [
        { series: 'pool_items_available{pool="npcs", campaign="c1"}', values: '50 3x20 60x5' },
        { series: 'pool_items_minimum{pool="npcs", campaign="c1"}', values: '20x30' },
      ],
      firingAt: '18m',
      labels: { pool: 'npcs', campaign: 'c1' },
      summary: 'pool npcs of campaign c1 stays below its minimum',
      resolvedAt: '24m',
    },
  },
];

export const exprOf = (spec: AlertSpec) => `${spec.signal} ${spec.condition}`;

/** The rule file as Prometheus reads it. */
export function ruleFile(): { groups: unknown[] } {
  return {
    groups: [
      {
        name: ALERT_GROUP,
        rules: ALERTS.map((spec) => ({
          alert: spec.alert,
          expr: exprOf(spec),
          for: spec.for,
          labels: { severity: spec.severity },
          annotations: { summary: spec.summary, runbook: spec.runbook },
        })),
      },
    ],
  };
}

/** promtool's unit tests: each alert firing at `firingAt` with its labels, and gone by `resolvedAt`. */
export function ruleTests(ruleFileName: string): unknown {
  return {
    rule_files: [ruleFileName],
    evaluation_interval: '1m',
    tests: ALERTS.map((spec) => ({
      name: spec.alert,
      interval: '1m',
      input_series: spec.test.input.map((s) => ({ series: s.series, values: s.values })),
      alert_rule_test: [
        {
          eval_time: spec.test.firingAt,
          alertname: spec.alert,
          exp_alerts: [
            {
              exp_labels: { severity: spec.severity, ...spec.test.labels },
              exp_annotations: { summary: spec.test.summary, runbook: spec.runbook },
            },
          ],
        },
        { eval_time: spec.test.resolvedAt, alertname: spec.alert, exp_alerts: [] },
      ],
    })),
  };
}
