import { Command } from 'commander';
import { type AuditRecord } from './api-types';
import { type Run } from './context';
import { positiveInt } from './selection';
import { formatTable, shortTime } from './table';

export const renderAudit = ({ items }: { items: AuditRecord[] }) =>
  formatTable(items, [
    { header: 'AT', value: (a) => shortTime(a.at) },
    { header: 'ACTOR', value: (a) => a.actor },
    { header: 'ACTION', value: (a) => `${a.action}${a.dryRun ? ' (dry run)' : ''}` },
    { header: 'TARGET', value: (a) => a.target, maxWidth: 40 },
    { header: 'COUNT', value: (a) => a.count, align: 'right' },
    { header: 'REASON', value: (a) => a.reason, maxWidth: 40 },
    { header: 'FILTER', value: (a) => (a.filter === null ? null : JSON.stringify(a.filter)), maxWidth: 60 },
  ]);

/** `fleetctl audit …`: what operators did. */
export function auditCommand(run: Run): Command {
  const audit = new Command('audit').description('the audit log of operator actions');
  audit
    .command('ls')
    .description('newest first')
    .option('--limit <n>', 'entries (1–500)', positiveInt('--limit', 500))
    .option('--action <action>', 'one action (dlq.redrive) or a prefix ending in "." (breaker.)')
    .action(
      run(async (ctx, options: { limit?: number; action?: string }) => {
        const body = await ctx.client().get<{ items: AuditRecord[] }>('/v1/admin/audit', options);
        ctx.print(body, () => renderAudit(body));
      }),
    );
  return audit;
}
