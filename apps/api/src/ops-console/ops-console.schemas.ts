import { z } from 'zod';
import { jobStatsSchema } from '../jobs/jobs.schemas';
import { CHART_RANGE_NAMES } from './charts';

const partitionLagSchema = z.object({
  partition: z.number().int(),
  committedOffset: z
    .string()
    .nullable()
    .meta({ description: 'Next offset the group reads; null while it has committed nothing there.' }),
  endOffset: z.string().meta({ description: "The partition's high watermark." }),
  lag: z.number().int().meta({ description: 'Records written and not yet consumed by the group.' }),
});

const groupLagSchema = z.object({
  groupId: z.string(),
  state: z.string().meta({ description: "The broker's view: Stable, Empty (no member is running), …" }),
  members: z.number().int(),
  lag: z.number().int(),
  topics: z.array(
    z.object({ topic: z.string(), lag: z.number().int(), partitions: z.array(partitionLagSchema) }),
  ),
});

/** `GET /v1/admin/queues`. */
export const queuesViewSchema = z.object({
  at: z.iso.datetime(),
  jobs: jobStatsSchema.shape.kinds.meta({
    description: 'Jobs per kind and status over every user (finished ones as far as retention kept them).',
  }),
  consumerLag: z
    .discriminatedUnion('status', [
      z.object({ status: z.literal('ok'), groups: z.array(groupLagSchema) }),
      z.object({
        status: z.literal('unavailable'),
        reason: z
          .string()
          .meta({ description: 'Why the broker could not be read; the jobs are still current.' }),
      }),
    ])
    .meta({
      description:
        "Lag of every consumer group reading this fleet's topics (their .retry and .dlq companions " +
        'included), from the broker: committed offsets against high watermarks.',
    }),
});
export type QueuesView = z.infer<typeof queuesViewSchema>;

export const chartRangeQuerySchema = z
  .object({
    range: z
      .enum(CHART_RANGE_NAMES as [string, ...string[]])
      .default('1h')
      .meta({ description: `One of ${CHART_RANGE_NAMES.join(', ')}.` }),
  })
  .strict();

const chartInfoSchema = z.object({
  name: z.string(),
  title: z.string(),
  unit: z.string(),
  description: z.string(),
});

/** `GET /v1/admin/charts`. */
export const chartListSchema = z.object({
  charts: z.array(chartInfoSchema),
  ranges: z.array(z.string()),
  prometheus: z
    .boolean()
    .meta({ description: 'Whether PROMETHEUS_URL is set (without it every chart answers 503).' }),
  namespace: z
    .string()
    .nullable()
    .meta({ description: "KAFKA_TOPIC_NAMESPACE: series' topic and group names start with it and a dot." }),
});
export type ChartList = z.infer<typeof chartListSchema>;

/** `GET /v1/admin/charts/:name`. */
export const chartViewSchema = chartInfoSchema.extend({
  range: z.string(),
  stepSeconds: z.number().int(),
  timestamps: z.array(z.number().int()).meta({ description: 'Unix seconds, every stepSeconds.' }),
  series: z.array(
    z.object({
      name: z.string(),
      labels: z.record(z.string(), z.string()),
      values: z
        .array(z.number().nullable())
        .meta({ description: 'One per timestamp; null where Prometheus had no sample.' }),
    }),
  ),
});
export type ChartView = z.infer<typeof chartViewSchema>;
