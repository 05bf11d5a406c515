import { FleetHeaders, retryTopicOf } from '@fleet/contracts';
import { type Sql } from '@fleet/db';
import { groupOffsets, groupsOnTopic, type KafkaClient, locateRecord, type TappedRecord } from '@fleet/kafka';
import { DeadLetterStore, traceIdOf, type DeadLetter } from './dead-letters';
import { isUuid, jaegerTraceUrl } from './ids';

export type StepKind =
  | 'outbox.created'
  | 'outbox.published'
  | 'outbox.parked'
  | 'fallback.queued'
  | 'kafka.written'
  | 'retry.scheduled'
  | 'dead-lettered'
  | 'parked'
  | 'redriven'
  | 'discarded'
  | 'handled'
  | 'pending';

export interface EventStep {
  /** When it happened; null when Kafka does not say (a commit has no time), ordered by what came before. */
  at: string | null;
  kind: StepKind;
  group?: string;
  detail: string;
}

export type GroupOutcomeKind =
  'handled' | 'retrying' | 'dead-lettered' | 'redriving' | 'parked' | 'discarded' | 'pending';

export interface GroupOutcome {
  group: string;
  outcome: GroupOutcomeKind;
  /** Deliveries the group made of it, redrives included. */
  attempts: number;
  redrives: number;
}

export interface EventLife {
  eventId: string;
  topic: string;
  key: string | null;
  eventType: string | null;
  traceId: string | null;
  jaegerUrl: string | null;
  outbox: {
    createdAt: string;
    publishedAt: string | null;
    attempts: number;
    lastError: string | null;
    parkedAt: string | null;
    aggregateType: string;
    aggregateKey: string;
  } | null;
  fallback: { queuedAt: string } | null;
  kafka: { topic: string; partition: number; offset: string; writtenAt: string | null } | null;
  groups: GroupOutcome[];
  deadLetters: Array<Omit<DeadLetter, 'value' | 'headers'>>;
  business: { type: string; id: string; row: unknown } | null;
  steps: EventStep[];
}

/** Finds the row an event is about (a chat message, a job, an upload …); the app knows its tables. */
export type BusinessRowLookup = (event: {
  aggregateType: string;
  aggregateKey: string;
  eventType: string;
  payload: unknown;
}) => Promise<{ type: string; id: string; row: unknown } | null>;

export interface EventLifeOptions {
  sql: Sql;
  kafka: KafkaClient;
  /** Jaeger UI base (`…/trace/<id>` links); none → no link. */
  jaegerUiUrl?: string;
  businessRow?: BusinessRowLookup;
  /** Groups that are tools, not consumers (skipped in the outcomes). */
  isToolGroup?: (groupId: string) => boolean;
}

interface OutboxRow {
  id: string;
  aggregate_type: string;
  aggregate_key: string;
  event_type: string;
  topic: string;
  payload: unknown;
  headers: Record<string, string>;
  created_at: Date;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
  parked_at: Date | null;
}

interface RetryRow {
  retry_topic: string;
  retry_partition: number;
  retry_offset: string;
  topic: string;
  consumer_group: string;
  attempt: number;
  due_at: Date | null;
  last_error: string | null;
  key: string | null;
  redrive_id: string | null;
  redrive_count: number;
  written_at: Date;
}

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

/**
 * Where an event is and has been, from every place the fleet leaves a mark: its outbox row, the
 * Redis fallback's header, its Kafka coordinates, each consumer group's committed offsets, the
 * retry and dead-letter records the indexer copied, the redrives and discards, and the business
 * row it touched. Nothing here is written on the happy path: a handled event costs no bookkeeping.
 */
export class EventLifeQuery {
  private readonly deadLetters: DeadLetterStore;

  constructor(private readonly options: EventLifeOptions) {
    this.deadLetters = new DeadLetterStore(options.sql);
  }

  /** The event's life, or undefined when the fleet has no trace of it. */
  async find(eventId: string): Promise<EventLife | undefined> {
    const { sql } = this.options;
    const [outbox] = isUuid(eventId)
      ? await sql.rows<OutboxRow>(`SELECT * FROM outbox_events WHERE id = $1`, [eventId])
      : [];
    const [dead, retries] = await Promise.all([
      this.deadLetters.ofEvent(eventId),
      sql.rows<RetryRow>(`SELECT * FROM ops_retries WHERE event_id = $1 ORDER BY written_at, retry_offset`, [
        eventId,
      ]),
    ]);
    if (!outbox && dead.length === 0 && retries.length === 0) return undefined;

    const topic = outbox?.topic ?? dead[0]?.topic ?? retries[0]!.topic;
    const key = outbox?.aggregate_key ?? dead[0]?.key ?? retries[0]?.key ?? null;
    const known = dead[0] ?? undefined;
    let partition = known?.originalPartition;
    let offset = known?.originalOffset;
    let record: TappedRecord | undefined;
    // Read from the topic itself (not only the DLQ copy): its broker timestamp and headers as sent.
    if (outbox?.published_at || dead.length > 0 || retries.length > 0) {
      // The record was written before anything happened to it; a consumer may have lagged behind,
      // so look from a minute before the earliest mark (the scan stops at the record anyway).
      const marks = [
        outbox?.created_at.getTime(),
        ...dead.map((d) => Date.parse(d.firstFailureAt ?? d.failedAt)),
        ...retries.map((r) => r.written_at.getTime()),
      ].filter((t): t is number => t !== undefined && Number.isFinite(t));
      const since = new Date(Math.min(...marks) - 60_000);
      record = await locateRecord(this.options.kafka, {
        topic,
        key,
        since,
        match: (r) => r.headers[FleetHeaders.eventId] === eventId,
      });
      if (record) {
        partition = record.partition;
        offset = record.offset;
      }
    }
    const headers = record?.headers ?? known?.headers ?? outbox?.headers ?? {};
    const traceId = traceIdOf(headers[FleetHeaders.traceparent] ?? outbox?.headers[FleetHeaders.traceparent]);
    const fallbackAt = headers[FleetHeaders.fallbackQueuedAt];

    const steps: EventStep[] = [];
    if (outbox) {
      steps.push({
        at: iso(outbox.created_at),
        kind: 'outbox.created',
        detail: `outbox row for ${outbox.aggregate_type} ${outbox.aggregate_key} (${outbox.event_type})`,
      });
      if (outbox.published_at) {
        steps.push({
          at: iso(outbox.published_at),
          kind: 'outbox.published',
          detail: `published by the outbox poller after ${outbox.attempts} refused attempt(s)`,
        });
      } else if (outbox.parked_at) {
        steps.push({
          at: iso(outbox.parked_at),
          kind: 'outbox.parked',
          detail: `not published: ${outbox.last_error ?? ''}`,
        });
      }
    }
    if (fallbackAt) {
      steps.push({
        at: fallbackAt,
        kind: 'fallback.queued',
        detail: 'Kafka unavailable: parked in the Redis fallback list, drained by redis-backfill',
      });
    }
    if (partition !== undefined && offset !== undefined && Number(offset) >= 0) {
      steps.push({
        at: record ? new Date(record.timestamp).toISOString() : null,
        kind: 'kafka.written',
        detail: `${topic} partition ${partition} offset ${offset}`,
      });
    }

    const groups = await this.outcomes(topic, partition, offset, dead, retries, steps);
    const business =
      outbox && this.options.businessRow
        ? await this.options.businessRow({
            aggregateType: outbox.aggregate_type,
            aggregateKey: outbox.aggregate_key,
            eventType: outbox.event_type,
            payload: outbox.payload,
          })
        : null;

    return {
      eventId,
      topic,
      key,
      eventType: outbox?.event_type ?? headers[FleetHeaders.eventType] ?? null,
      traceId,
      jaegerUrl: jaegerTraceUrl(this.options.jaegerUiUrl, traceId),
      outbox: outbox
        ? {
            createdAt: iso(outbox.created_at)!,
            publishedAt: iso(outbox.published_at),
            attempts: outbox.attempts,
            lastError: outbox.last_error,
            parkedAt: iso(outbox.parked_at),
            aggregateType: outbox.aggregate_type,
            aggregateKey: outbox.aggregate_key,
          }
        : null,
      fallback: fallbackAt ? { queuedAt: fallbackAt } : null,
      kafka:
        partition !== undefined && offset !== undefined
          ? { topic, partition, offset, writtenAt: record ? new Date(record.timestamp).toISOString() : null }
          : null,
      groups,
      deadLetters: dead.map(({ value: _value, headers: _headers, ...rest }) => rest),
      business,
      steps: ordered(steps),
    };
  }

  /** Each group's outcome, its steps appended to `steps`. */
  private async outcomes(
    topic: string,
    partition: number | undefined,
    offset: string | undefined,
    dead: readonly DeadLetter[],
    retries: readonly RetryRow[],
    steps: EventStep[],
  ): Promise<GroupOutcome[]> {
    const tool = this.options.isToolGroup ?? ((g: string) => g.startsWith('fleet-ops-'));
    const consumers = await groupsOnTopic(this.options.kafka, topic, (g) => g.endsWith('.retry') || tool(g));
    const names = new Set<string>([
      ...consumers.filter((c) => partition !== undefined && c.offsets.has(partition)).map((c) => c.groupId),
      ...dead.map((d) => d.consumerGroup),
      ...retries.map((r) => r.consumer_group),
    ]);
    const out: GroupOutcome[] = [];
    for (const group of [...names].sort()) {
      const committed = consumers.find((c) => c.groupId === group)?.offsets.get(partition ?? -1);
      const passed = committed !== undefined && offset !== undefined && committed > BigInt(offset);
      // The group's own history: retries (and redrives) and dead letters, in time order.
      const history: Array<{ at: number; retry?: RetryRow; dead?: DeadLetter }> = [
        ...retries
          .filter((r) => r.consumer_group === group)
          .map((r) => ({ at: r.written_at.getTime(), retry: r })),
        ...dead
          .filter((d) => d.consumerGroup === group)
          .map((d) => ({ at: Date.parse(d.failedAt), dead: d })),
      ].sort((a, b) => a.at - b.at);
      let attempts = passed || history.length > 0 ? 1 : 0;
      let redrives = 0;
      for (const item of history) {
        if (item.retry?.redrive_id) {
          redrives++;
          attempts++;
          steps.push({
            at: item.retry.written_at.toISOString(),
            kind: 'redriven',
            group,
            detail: `redrive ${item.retry.redrive_id} (#${item.retry.redrive_count}) to ${item.retry.retry_topic} partition ${item.retry.retry_partition} offset ${item.retry.retry_offset}`,
          });
        } else if (item.retry) {
          attempts++;
          steps.push({
            at: item.retry.written_at.toISOString(),
            kind: 'retry.scheduled',
            group,
            detail: `attempt ${item.retry.attempt} due ${iso(item.retry.due_at) ?? '?'} after ${item.retry.last_error ?? 'an error'}`,
          });
        } else if (item.dead) {
          const d = item.dead;
          steps.push({
            at: d.failedAt,
            kind: 'dead-lettered',
            group,
            detail: `${d.reason} (${d.errorCode}: ${d.errorMessage}) after ${d.attempts} attempt(s) → ${d.dlqTopic} partition ${d.dlqPartition} offset ${d.dlqOffset}`,
          });
          if (d.status === 'PARKED')
            steps.push({ at: d.statusAt, kind: 'parked', group, detail: d.statusReason ?? 'parked' });
          if (d.status === 'DISCARDED')
            steps.push({ at: d.statusAt, kind: 'discarded', group, detail: d.statusReason ?? 'discarded' });
        }
      }
      const last = history.at(-1);
      let outcome: GroupOutcomeKind;
      if (!last) {
        outcome = passed ? 'handled' : 'pending';
      } else if (last.dead) {
        const status = last.dead.status;
        outcome =
          status === 'PARKED'
            ? 'parked'
            : status === 'DISCARDED'
              ? 'discarded'
              : status === 'DEAD'
                ? 'dead-lettered'
                : 'redriving';
      } else {
        // The last retry record: handled once the group's retry consumer committed past it.
        const r = last.retry!;
        const retryCommitted = (
          await groupOffsets(this.options.kafka, `${group}.retry`, retryTopicOf(topic))
        ).get(r.retry_partition);
        outcome =
          retryCommitted !== undefined && retryCommitted > BigInt(r.retry_offset) ? 'handled' : 'retrying';
      }
      if (outcome === 'handled') {
        steps.push({
          at: null,
          kind: 'handled',
          group,
          detail: last?.retry
            ? `handled on attempt ${last.retry.attempt}${last.retry.redrive_id ? ' after the redrive' : ''} (its retry consumer committed past it)`
            : `handled on its first delivery (committed offset ${String(committed)} > ${offset})`,
        });
      } else if (outcome === 'pending' || outcome === 'retrying') {
        steps.push({
          at: null,
          kind: 'pending',
          group,
          detail: outcome === 'retrying' ? 'retry not yet run' : 'not yet consumed',
        });
      }
      out.push({ group, outcome, attempts, redrives });
    }
    return out;
  }
}

/**
 * Steps in time order; a step without a time (a commit) stays after everything before it in the
 * list, which was built in causal order per group.
 */
function ordered(steps: readonly EventStep[]): EventStep[] {
  const timed = steps.map((step, index) => ({ step, index }));
  let lastAt = '';
  const keyed = timed.map(({ step, index }) => {
    if (step.at) lastAt = step.at > lastAt ? step.at : lastAt;
    return { step, index, at: step.at ?? lastAt };
  });
  return keyed
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index))
    .map(({ step }) => step);
}
