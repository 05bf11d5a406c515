import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetHeaders, retryTopicOf } from '@fleet/contracts';
import { type Sql } from '@fleet/db';
import { type FleetProducer, type RuntimeLogger } from '@fleet/kafka';
import { type Registry } from 'prom-client';
import { AuditLog } from './audit';
import {
  DLQ_HEADERS,
  filterClause,
  toDeadLetter,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterRow,
} from './dead-letters';
import { isUuid } from './ids';
import { DEFAULT_REDRIVE_CAP } from './indexer';
import { opsMetrics, type OpsMetrics } from './metrics';

/** What to send back: some dead letters by id, or every one matching a filter. */
export type Selection = { ids: readonly string[] } | { filter: DeadLetterFilter };

export interface RedrivePreview {
  dryRun: true;
  matched: number;
  byGroup: Record<string, number>;
  sample: DeadLetter[];
}

export type RedriveStatus = 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface Redrive {
  id: string;
  actor: string;
  status: RedriveStatus;
  /** Dead letters the redrive took (DEAD ones; the others in a selection by id are `skipped`). */
  matched: number;
  redriven: number;
  skipped: number;
  failed: number;
  ratePerSecond: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface RedriverOptions {
  sql: Sql;
  /** Connected; writes the records to the groups' retry topics. */
  producer: FleetProducer;
  logger: RuntimeLogger;
  registry: Registry;
  /** @defaultValue {@link DEFAULT_REDRIVE_CAP} */
  redriveCap?: number;
  /** @defaultValue 500 */
  defaultRatePerSecond?: number;
}

export const MAX_RATE_PER_SECOND = 10_000;
const MAX_IDS = 10_000;

interface RedriveRow {
  id: string;
  actor: string;
  status: RedriveStatus;
  matched: number;
  redriven: number;
  skipped: number;
  failed: number;
  rate_per_s: number;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const toRedrive = (row: RedriveRow): Redrive => ({
  id: row.id,
  actor: row.actor,
  status: row.status,
  matched: row.matched,
  redriven: row.redriven,
  skipped: row.skipped,
  failed: row.failed,
  ratePerSecond: row.rate_per_s,
  error: row.error,
  startedAt: row.started_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
});

export class RedriveError extends Error {
  constructor(
    readonly code: 'INVALID_SELECTION' | 'INVALID_RATE',
    message: string,
  ) {
    super(message);
    this.name = 'RedriveError';
  }
}

/**
 * Sends dead letters back to the consumer group that failed them, and only to it: each goes to
 * its topic's `.retry` companion addressed to that group (`x-retry-group`), which only that
 * group's retry consumer runs — the other groups, which handled the original, skip it. Key, value,
 * event id and `traceparent` travel unchanged, the group gets its full retry budget again, and
 * `x-redrive-count` goes up by one (a dead letter back past the cap is parked by the indexer).
 *
 * Records leave in their DLQ order, one producer with one request in flight: a key's records keep
 * their order (one key, one partition, on the DLQ and on the retry topic alike). A dead letter is
 * taken by one redrive only (DEAD → REDRIVING → REDRIVEN in one `UPDATE … WHERE status = 'DEAD'`),
 * so a second redrive of the same record finds nothing to do.
 */
export class Redriver {
  private readonly cap: number;
  private readonly audit: AuditLog;
  private readonly metrics: OpsMetrics;
  private readonly running = new Map<string, Promise<Redrive>>();

  constructor(private readonly options: RedriverOptions) {
    this.cap = options.redriveCap ?? DEFAULT_REDRIVE_CAP;
    this.audit = new AuditLog(options.sql);
    this.metrics = opsMetrics(options.registry);
  }

  /** What a redrive of `selection` would take: the count, per group, and the first few. */
  async preview(selection: Selection, actor: string): Promise<RedrivePreview> {
    const { where, values } = this.selectable(selection);
    const [groups, sample] = await Promise.all([
      this.options.sql.rows<{ consumer_group: string; n: string }>(
        `SELECT consumer_group, count(*) AS n FROM ops_dead_letters WHERE ${where} GROUP BY consumer_group`,
        values,
      ),
      this.options.sql.rows<DeadLetterRow>(
        `SELECT * FROM ops_dead_letters WHERE ${where} ORDER BY dlq_topic, dlq_partition, dlq_offset LIMIT 10`,
        values,
      ),
    ]);
    const byGroup = Object.fromEntries(groups.map((g) => [g.consumer_group, Number(g.n)]));
    const matched = Object.values(byGroup).reduce((a, b) => a + b, 0);
    await this.audit.record({
      actor,
      action: 'dlq.redrive',
      filter: selectionForAudit(selection),
      count: matched,
      dryRun: true,
    });
    return { dryRun: true, matched, byGroup, sample: sample.map(toDeadLetter) };
  }

  /**
   * Takes the selection's DEAD records and sends them back, at most `ratePerSecond`; resolves with
   * the redrive once it is recorded (running), `done` once it has finished.
   */
  async start(
    selection: Selection,
    actor: string,
    ratePerSecond = this.options.defaultRatePerSecond ?? 500,
  ): Promise<{ redrive: Redrive; done: Promise<Redrive> }> {
    if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1 || ratePerSecond > MAX_RATE_PER_SECOND) {
      throw new RedriveError(
        'INVALID_RATE',
        `ratePerSecond must be an integer from 1 to ${MAX_RATE_PER_SECOND}`,
      );
    }
    const { where, values } = this.selectable(selection);
    const id = randomUUID();
    const requested = 'ids' in selection ? new Set(selection.ids).size : undefined;
    // Claimed in one statement: a record is in at most one redrive, whoever asks twice.
    const claimed = await this.options.sql.rows<DeadLetterRow>(
      `UPDATE ops_dead_letters SET status = 'REDRIVING', redrive_id = $${values.length + 1},
              status_at = now(), status_reason = NULL
        WHERE id IN (SELECT id FROM ops_dead_letters WHERE ${where} FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [...values, id],
    );
    claimed.sort(
      (a, b) =>
        a.dlq_topic.localeCompare(b.dlq_topic) ||
        a.dlq_partition - b.dlq_partition ||
        Number(BigInt(a.dlq_offset) - BigInt(b.dlq_offset)),
    );
    const skipped = requested === undefined ? 0 : requested - claimed.length;
    const [row] = await this.options.sql.rows<RedriveRow>(
      `INSERT INTO ops_redrives (id, actor, filter, status, matched, skipped, rate_per_s)
       VALUES ($1, $2, $3, 'RUNNING', $4, $5, $6) RETURNING *`,
      [id, actor, JSON.stringify(selectionForAudit(selection)), claimed.length, skipped, ratePerSecond],
    );
    await this.audit.record({
      actor,
      action: 'dlq.redrive',
      target: id,
      filter: selectionForAudit(selection),
      count: claimed.length,
      detail: { skipped, ratePerSecond },
    });
    const done = this.run(id, claimed, ratePerSecond).finally(() => this.running.delete(id));
    this.running.set(id, done);
    return { redrive: toRedrive(row!), done };
  }

  async get(id: string): Promise<Redrive | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.options.sql.rows<RedriveRow>(`SELECT * FROM ops_redrives WHERE id = $1`, [id]);
    return row && toRedrive(row);
  }

  /** Waits for the redrives this process runs (at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /** DEAD records of the selection below the cap: the only ones a redrive takes. */
  private selectable(selection: Selection): { where: string; values: unknown[] } {
    if (
      'filter' in selection &&
      selection.filter.status !== undefined &&
      selection.filter.status !== 'DEAD'
    ) {
      throw new RedriveError('INVALID_SELECTION', 'only DEAD dead letters can be redriven');
    }
    const { where, values } = selectionClause(selection);
    return {
      where: `${where} AND status = 'DEAD' AND redrive_count < $${values.length + 1}`,
      values: [...values, this.cap],
    };
  }

  private async run(id: string, claimed: readonly DeadLetterRow[], ratePerSecond: number): Promise<Redrive> {
    const chunkSize = Math.max(1, Math.min(200, Math.ceil(ratePerSecond / 10)));
    const started = Date.now();
    let sent = 0;
    try {
      for (let i = 0; i < claimed.length; i += chunkSize) {
        const chunk = claimed.slice(i, i + chunkSize);
        await this.send(id, chunk);
        sent += chunk.length;
        await this.options.sql.rows(
          `UPDATE ops_dead_letters SET status = 'REDRIVEN', status_at = now(), redrive_topic = topic || '.retry'
            WHERE id = ANY($1::uuid[])`,
          [chunk.map((r) => r.id)],
        );
        await this.options.sql.rows(`UPDATE ops_redrives SET redriven = $2 WHERE id = $1`, [id, sent]);
        // Paced from the start: `sent` records may not have left before `sent / rate` seconds.
        const ahead = (sent / ratePerSecond) * 1000 - (Date.now() - started);
        if (ahead > 0 && i + chunkSize < claimed.length) await sleep(ahead);
      }
      return await this.finish(id, 'COMPLETED', sent, 0, null);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Not sent: back to DEAD, for the next redrive to take.
      const reverted = await this.options.sql.rows(
        `UPDATE ops_dead_letters SET status = 'DEAD', redrive_id = NULL, status_at = now(),
                status_reason = $2
          WHERE redrive_id = $1 AND status = 'REDRIVING' RETURNING id`,
        [id, `redrive failed: ${message}`.slice(0, 1_000)],
      );
      this.options.logger.error(
        { err: error, redriveId: id, sent },
        'redrive failed; unsent dead letters are DEAD again',
      );
      return this.finish(id, 'FAILED', sent, reverted.length, message);
    }
  }

  private async send(id: string, chunk: readonly DeadLetterRow[]): Promise<void> {
    const byTopic = new Map<string, DeadLetterRow[]>();
    for (const row of chunk) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
    const now = String(Date.now());
    await this.options.producer.sendRawBatch(
      [...byTopic].map(([topic, rows]) => ({
        topic: retryTopicOf(topic),
        records: rows.map((row) => ({
          key: row.key,
          value: row.value,
          headers: {
            ...Object.fromEntries(Object.entries(row.headers).filter(([name]) => !DLQ_HEADERS.has(name))),
            [FleetHeaders.retryGroup]: row.consumer_group,
            [FleetHeaders.retryAttempt]: '1',
            [FleetHeaders.retryDueAt]: now,
            [FleetHeaders.redriveCount]: String(row.redrive_count + 1),
            [FleetHeaders.redriveId]: id,
            [FleetHeaders.lastError]: `redriven after ${row.reason}: ${row.error_code}`.slice(0, 1_000),
          },
        })),
      })),
    );
    for (const row of chunk) this.metrics.redriven.inc({ topic: row.topic, group: row.consumer_group });
  }

  private async finish(
    id: string,
    status: RedriveStatus,
    redriven: number,
    failed: number,
    error: string | null,
  ): Promise<Redrive> {
    const [row] = await this.options.sql.rows<RedriveRow>(
      `UPDATE ops_redrives SET status = $2, redriven = $3, failed = $4, error = $5, finished_at = now()
        WHERE id = $1 RETURNING *`,
      [id, status, redriven, failed, error],
    );
    return toRedrive(row!);
  }
}

/** Discards dead letters (DEAD or PARKED) with a reason; audited. Returns how many. */
export async function discardDeadLetters(
  sql: Sql,
  registry: Registry,
  selection: Selection,
  actor: string,
  reason: string,
): Promise<number> {
  if (reason.trim().length === 0) throw new RedriveError('INVALID_SELECTION', 'a discard needs a reason');
  const { where, values } = selectionClause(selection);
  const rows = await sql.rows<{ topic: string }>(
    `UPDATE ops_dead_letters SET status = 'DISCARDED', status_reason = $${values.length + 1}, status_at = now()
      WHERE ${where} AND status IN ('DEAD', 'PARKED') RETURNING topic`,
    [...values, reason],
  );
  const metrics = opsMetrics(registry);
  for (const row of rows) metrics.discarded.inc({ topic: row.topic });
  await new AuditLog(sql).record({
    actor,
    action: 'dlq.discard',
    filter: selectionForAudit(selection),
    count: rows.length,
    reason,
  });
  return rows.length;
}

/** The `WHERE` clause of a selection: its ids (1 to {@link MAX_IDS} UUIDs), or its filter. */
function selectionClause(selection: Selection): { where: string; values: unknown[] } {
  if (!('ids' in selection)) return filterClause(selection.filter);
  const ids = [...new Set(selection.ids)];
  if (ids.length === 0 || ids.length > MAX_IDS) {
    throw new RedriveError('INVALID_SELECTION', `give 1 to ${MAX_IDS} dead-letter ids`);
  }
  if (!ids.every(isUuid)) {
    throw new RedriveError('INVALID_SELECTION', 'every id must be a dead letter id (a UUID)');
  }
  return { where: `id = ANY($1::uuid[])`, values: [ids] };
}

function selectionForAudit(selection: Selection): unknown {
  return 'ids' in selection ? { ids: [...selection.ids] } : { ...selection.filter };
}
