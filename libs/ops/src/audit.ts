import { type Sql } from '@fleet/db';

/** What an operator did; every action of the ops API and the CLI leaves one. */
export interface AuditEntry {
  /** The caller: the token's subject. */
  actor: string;
  /** e.g. `dlq.redrive`, `dlq.discard`, `breaker.open`. */
  action: string;
  /** What it acted on: a dead letter's id, a breaker's name, a topic. */
  target?: string;
  filter?: unknown;
  count?: number;
  dryRun?: boolean;
  reason?: string;
  detail?: unknown;
}

export interface AuditRecord extends Required<Pick<AuditEntry, 'actor' | 'action' | 'count' | 'dryRun'>> {
  id: string;
  at: string;
  target: string | null;
  filter: unknown;
  reason: string | null;
  detail: unknown;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  filter: unknown;
  count: number;
  dry_run: boolean;
  reason: string | null;
  detail: unknown;
}

const toRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: row.at.toISOString(),
  actor: row.actor,
  action: row.action,
  target: row.target,
  filter: row.filter,
  count: row.count,
  dryRun: row.dry_run,
  reason: row.reason,
  detail: row.detail,
});

/** The `ops_audit` table: append, and read the latest. */
export class AuditLog {
  constructor(private readonly sql: Sql) {}

  /** Appends one entry; pass a transaction's `Sql` to make it part of the action's own commit. */
  async record(entry: AuditEntry, sql: Sql = this.sql): Promise<AuditRecord> {
    const [row] = await sql.rows<AuditRow>(
      `INSERT INTO ops_audit (actor, action, target, filter, count, dry_run, reason, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING *`,
      [
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.filter === undefined ? null : JSON.stringify(entry.filter),
        entry.count ?? 0,
        entry.dryRun ?? false,
        entry.reason ?? null,
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
      ],
    );
    return toRecord(row!);
  }

  /** Newest first; `action` narrows to one kind (`dlq.redrive`) or a prefix (`breaker.`). */
  async latest(options: { limit?: number; action?: string } = {}): Promise<AuditRecord[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const rows = await this.sql.rows<AuditRow>(
      `SELECT * FROM ops_audit
        WHERE $1::text IS NULL OR action = $1 OR (right($1, 1) = '.' AND starts_with(action, $1))
        ORDER BY at DESC LIMIT $2`,
      [options.action ?? null, limit],
    );
    return rows.map(toRecord);
  }
}
