import { Command } from 'commander';
import { type BreakerActionResult, type BreakersView } from './api-types';
import { UsageError } from './client';
import { type Run } from './context';
import { formatTable, shortTime } from './table';

/** One breaker on one replica, as `breaker ls` prints it. */
export type BreakerRow = BreakersView['breakers'][number]['replicas'][number] & { name: string };

/** A row per breaker and replica, by name then replica. */
export function breakerRows(body: BreakersView): BreakerRow[] {
  return body.breakers
    .flatMap((b) => b.replicas.map((r) => ({ ...r, name: b.name })))
    .sort((a, b) => a.name.localeCompare(b.name) || a.replica.localeCompare(b.replica));
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

/** What an override did: how many live replicas applied it, and which had not yet (the api waits ≤ 2 s). */
export function renderAction(result: BreakerActionResult): string {
  const total = result.applied.length + result.pending.length;
  const line = `breaker ${result.breaker}: ${result.action} applied on ${result.applied.length} of ${total} replicas in ${result.waitedMs} ms\n`;
  const pending = result.pending.map((r) => `  not yet: ${r.app} ${r.replica} (${r.state})\n`);
  return line + pending.join('');
}

/** `fleetctl breaker …`: circuit breakers across the replicas. */
export function breakerCommand(run: Run): Command {
  const breaker = new Command('breaker').description('circuit breakers: state per replica, overrides');
  breaker
    .command('ls')
    .description('every breaker on every replica')
    .action(
      run(async (ctx) => {
        const body = await ctx.client().get<BreakersView>('/v1/admin/breakers');
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
          .post<BreakerActionResult>(
            `/v1/admin/breakers/${encodeURIComponent(name)}/${action}`,
            reason ? { reason } : {},
          );
        ctx.print(body, () => renderAction(body));
      }),
    );
  };
  override('open', 'force a breaker open on every replica (calls fail fast)', true);
  override('close', 'force a breaker closed on every replica (calls go through)', true);
  override('reset', 'drop the override: the breaker judges for itself again', false);
  return breaker;
}
