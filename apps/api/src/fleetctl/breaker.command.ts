import { Command } from 'commander';
import { UsageError } from './client';
import { type Run } from './context';
import { formatTable, shortTime } from './table';

/** One breaker on one replica, as `breaker ls` prints it. */
export interface BreakerRow {
  name: string;
  app?: string;
  replica: string;
  state: string;
  override?: { mode: string; reason: string; actor?: string } | null;
  updatedAt?: string;
}

interface BreakerReplica {
  app?: string;
  replica: string;
  updatedAt?: string;
  breakers: Array<Omit<BreakerRow, 'app' | 'replica' | 'updatedAt'>>;
}

/**
 * Rows per breaker and replica from the api's answer: replicas each listing their breakers
 * (`replicas[].breakers[]`), or breakers each listing their replicas (`breakers[].replicas[]`).
 */
export function breakerRows(body: {
  replicas?: BreakerReplica[];
  breakers?: Array<{ name: string; replicas?: BreakerRow[] }>;
}): BreakerRow[] {
  const rows = Array.isArray(body.replicas)
    ? body.replicas.flatMap((r) =>
        r.breakers.map((b) => ({ ...b, app: r.app, replica: r.replica, updatedAt: r.updatedAt })),
      )
    : (body.breakers ?? []).flatMap((b) => (b.replicas ?? []).map((r) => ({ ...r, name: b.name })));
  return rows.sort((a, b) => a.name.localeCompare(b.name) || a.replica.localeCompare(b.replica));
}

export const renderBreakers = (rows: readonly BreakerRow[]) =>
  formatTable(rows, [
    { header: 'BREAKER', value: (r) => r.name },
    { header: 'APP', value: (r) => r.app },
    { header: 'REPLICA', value: (r) => r.replica },
    { header: 'STATE', value: (r) => r.state },
    {
      header: 'OVERRIDE',
      value: (r) =>
        r.override
          ? `${r.override.mode} (${r.override.reason}${r.override.actor ? `, ${r.override.actor}` : ''})`
          : null,
      maxWidth: 60,
    },
    { header: 'REPORTED', value: (r) => shortTime(r.updatedAt) },
  ]);

/** `fleetctl breaker …`: circuit breakers across the replicas. */
export function breakerCommand(run: Run): Command {
  const breaker = new Command('breaker').description('circuit breakers: state per replica, overrides');
  breaker
    .command('ls')
    .description('every breaker on every replica')
    .action(
      run(async (ctx) => {
        const body = await ctx.client().get<Parameters<typeof breakerRows>[0]>('/v1/admin/breakers');
        ctx.print(body, () => renderBreakers(breakerRows(body)));
      }),
    );
  const override = (action: 'open' | 'close' | 'reset', description: string, reasonRequired: boolean) => {
    const command = breaker.command(action).description(description).argument('<name>', 'breaker name');
    if (reasonRequired) command.requiredOption('--reason <text>', 'why (kept in the audit log)');
    else command.option('--reason <text>', 'why (kept in the audit log)');
    command.action(
      run(async (ctx, name: string, options: { reason?: string }) => {
        const reason = options.reason?.trim();
        if (reasonRequired && !reason) throw new UsageError('--reason must not be empty');
        const body = await ctx
          .client()
          .post<unknown>(
            `/v1/admin/breakers/${encodeURIComponent(name)}/${action}`,
            reason ? { reason } : {},
          );
        ctx.print(body, () => `breaker ${name}: ${action} sent\n`);
      }),
    );
  };
  override('open', 'force a breaker open on every replica (calls fail fast)', true);
  override('close', 'force a breaker closed on every replica (calls go through)', true);
  override('reset', 'drop the override: the breaker judges for itself again', false);
  return breaker;
}
