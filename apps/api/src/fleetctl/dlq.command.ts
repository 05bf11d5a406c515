import { Command, Option } from 'commander';
import {
  type DeadLetterDetail,
  type DeadLetterPage,
  type Redrive,
  type RedrivePreview,
  type TopicSummary,
} from './api-types';
import { FleetApiError, UsageError } from './client';
import { type CommandContext, type Run } from './context';
import { followRedrive } from './redrive-progress';
import { describeSelection, parseSelection, parseTime, positiveInt, type Selection } from './selection';
import { formatFields, formatTable, shortTime } from './table';

const STATUSES = ['DEAD', 'REDRIVING', 'REDRIVEN', 'DISCARDED', 'PARKED'];
const REASONS = ['EMPTY_VALUE', 'MALFORMED_JSON', 'SCHEMA_INVALID', 'NON_RETRIABLE', 'RETRIES_EXHAUSTED'];

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const renderTopics = ({ topics }: { topics: TopicSummary[] }) =>
  formatTable(topics, [
    { header: 'TOPIC', value: (t) => t.topic },
    ...STATUSES.map((s) => ({
      header: s,
      value: (t: TopicSummary) => t.counts[s as keyof TopicSummary['counts']] ?? 0,
      align: 'right' as const,
    })),
    { header: 'GROUPS', value: (t) => t.groups.join(',') },
  ]);

export function renderPage(page: DeadLetterPage): string {
  const table = formatTable(page.items, [
    { header: 'ID', value: (d) => d.id },
    { header: 'FAILED', value: (d) => shortTime(d.failedAt) },
    { header: 'TOPIC', value: (d) => d.topic },
    { header: 'GROUP', value: (d) => d.consumerGroup },
    { header: 'REASON', value: (d) => d.reason },
    { header: 'ERROR', value: (d) => d.errorCode, maxWidth: 24 },
    { header: 'KEY', value: (d) => d.key, maxWidth: 36 },
    { header: 'EVENT', value: (d) => d.eventId, maxWidth: 36 },
    { header: 'TRIES', value: (d) => d.attempts, align: 'right' },
    { header: 'REDRIVES', value: (d) => d.redriveCount, align: 'right' },
    { header: 'STATUS', value: (d) => d.status },
  ]);
  const more = page.nextCursor ? `; older ones: --cursor ${page.nextCursor}` : '';
  return `${table}${page.items.length} of ${page.total}${more}\n`;
}

export function renderDeadLetter(d: DeadLetterDetail): string {
  const fields = formatFields([
    ['id', d.id],
    ['status', `${d.status}${d.statusReason ? ` (${d.statusReason})` : ''} since ${shortTime(d.statusAt)}`],
    ['topic', d.topic],
    ['group', d.consumerGroup],
    ['reason', d.reason],
    ['error', `${d.errorCode}: ${d.errorMessage}`],
    ['attempts', d.attempts],
    ['redrives', d.redriveCount],
    ['first failure', shortTime(d.firstFailureAt)],
    ['dead-lettered', shortTime(d.failedAt)],
    ['key', d.key],
    ['event', d.eventId ? `${d.eventId}${d.eventType ? ` (${d.eventType})` : ''}` : null],
    ['original', `partition ${d.originalPartition} offset ${d.originalOffset}`],
    ['dlq record', `${d.dlqTopic} partition ${d.dlqPartition} offset ${d.dlqOffset}`],
    ['trace', d.jaegerUrl ?? d.traceId],
  ]);
  const headers = formatTable(Object.entries(d.headers), [
    { header: 'HEADER', value: ([name]) => name },
    { header: 'VALUE', value: ([, value]) => value },
  ]);
  const payload = d.payload !== null ? JSON.stringify(d.payload, null, 2) : (d.valueText ?? '(empty value)');
  return `${fields}\n${headers}\npayload:\n${payload}\n`;
}

export function renderPreview(preview: RedrivePreview): string {
  const groups = Object.entries(preview.byGroup).map(([group, n]) => `  ${group}: ${n}\n`);
  return `dry run: ${preview.matched} dead letter${preview.matched === 1 ? '' : 's'} would be redriven\n${groups.join('')}`;
}

export const renderRedrive = (r: Redrive) =>
  `redrive ${r.id} ${r.status}: ${r.redriven} redriven, ${r.skipped} skipped, ${r.failed} failed of ${r.matched}` +
  `${r.error ? ` — ${r.error}` : ''}\n`;

/** A yes from the operator, or `--yes`; a usage error where nobody can be asked. */
async function confirmed(ctx: CommandContext, yes: boolean | undefined, question: string): Promise<boolean> {
  if (yes) return true;
  if (!ctx.io.confirm)
    throw new UsageError(`${question.replace(/\?.*$/, '')}: pass --yes (no terminal to ask on)`);
  return ctx.io.confirm(question);
}

async function redrive(
  ctx: CommandContext,
  ids: string[],
  options: { filter?: string[]; dryRun?: boolean; rate?: number; yes?: boolean },
): Promise<void> {
  const selection: Selection = parseSelection(ids, options.filter ?? []);
  const client = ctx.client();
  const preview = await client.post<RedrivePreview>('/v1/admin/dlq/redrive', { ...selection, dryRun: true });
  if (options.dryRun || preview.matched === 0) {
    ctx.print(preview, () => renderPreview(preview) + (preview.matched === 0 ? 'nothing to redrive\n' : ''));
    return;
  }
  if (!ctx.json) ctx.io.stdout.write(renderPreview(preview));
  const question = `Redrive ${preview.matched} (${describeSelection(selection)})? [y/N] `;
  if (!(await confirmed(ctx, options.yes, question))) {
    ctx.io.stderr.write('not redriven\n');
    return;
  }
  const started = await client.post<Redrive>('/v1/admin/dlq/redrive', {
    ...selection,
    ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
  });
  const finished = await followRedrive(ctx, client, started);
  ctx.print(finished, () => renderRedrive(finished));
  if (finished.status === 'FAILED') {
    throw new FleetApiError(
      200,
      'REDRIVE_FAILED',
      `redrive ${finished.id} failed: ${finished.error ?? 'no reason given'}`,
    );
  }
}

async function discard(
  ctx: CommandContext,
  ids: string[],
  options: { filter?: string[]; reason: string; yes?: boolean },
): Promise<void> {
  const selection = parseSelection(ids, options.filter ?? []);
  const reason = options.reason.trim();
  if (!reason) throw new UsageError('--reason must not be empty');
  // A filter can match thousands: asked first. Ids name exactly what goes.
  if ('filter' in selection) {
    const question = `Discard ${describeSelection(selection)}? [y/N] `;
    if (!(await confirmed(ctx, options.yes, question))) {
      ctx.io.stderr.write('nothing discarded\n');
      return;
    }
  }
  const result = await ctx
    .client()
    .post<{ discarded: number }>('/v1/admin/dlq/discard', { ...selection, reason });
  ctx.print(result, () => `${result.discarded} discarded\n`);
}

/** `fleetctl dlq …`: dead letters. */
export function dlqCommand(run: Run): Command {
  const dlq = new Command('dlq').description('dead letters: browse, redrive, discard');

  dlq
    .command('topics')
    .description('topics with dead letters, counts per status')
    .action(
      run(async (ctx) => {
        const body = await ctx.client().get<{ topics: TopicSummary[] }>('/v1/admin/dlq/topics');
        ctx.print(body, () => renderTopics(body));
      }),
    );

  dlq
    .command('ls')
    .description('dead letters, newest first')
    .requiredOption('--topic <topic>', 'original topic (the api lists one topic at a time)')
    .option('--group <group>', 'consumer group that failed them')
    .addOption(new Option('--reason <reason>', 'why they were dead-lettered').choices(REASONS))
    .option('--error-code <code>', "the handler's error code")
    .option('--key <key>', 'record key')
    .option('--event-id <id>', 'event id (x-event-id)')
    .option('--from <time>', 'failed at or after: ISO time or -30m, -2h, -7d')
    .option('--to <time>', 'failed at or before')
    .addOption(new Option('--status <status>', 'status').choices(STATUSES))
    .option('--limit <n>', 'page size (1–500)', positiveInt('--limit', 500))
    .option('--cursor <cursor>', 'next page (printed under the table)')
    .action(
      run(async (ctx, options: Record<string, string | number | undefined>) => {
        const { from, to, errorCode, eventId, ...rest } = options;
        const query = {
          ...rest,
          errorCode,
          eventId,
          from: from === undefined ? undefined : parseTime(String(from), '--from'),
          to: to === undefined ? undefined : parseTime(String(to), '--to'),
        };
        const page = await ctx.client().get<DeadLetterPage>('/v1/admin/dlq', query);
        ctx.print(page, () => renderPage(page));
      }),
    );

  dlq
    .command('show')
    .description('one dead letter: failure, payload, headers')
    .argument('<id>', 'dead-letter id')
    .action(
      run(async (ctx, id: string) => {
        const record = await ctx.client().get<DeadLetterDetail>(`/v1/admin/dlq/${encodeURIComponent(id)}`);
        ctx.print(record, () => renderDeadLetter(record));
      }),
    );

  dlq
    .command('redrive')
    .description('send dead letters back to the retry path of the group that failed them (dry run first)')
    .argument('[ids...]', 'dead-letter ids')
    .option('--filter <key=value>', 'select by filter instead (repeat; topic= required)', collect)
    .option('--dry-run', 'only count what would be redriven')
    .option('--rate <n>', 'records per second', positiveInt('--rate', 10_000))
    .option('-y, --yes', 'do not ask before redriving')
    .action(run(redrive));

  dlq
    .command('discard')
    .description('mark dead letters as never to be redriven, with a reason')
    .argument('[ids...]', 'dead-letter ids')
    .option('--filter <key=value>', 'select by filter instead (repeat; topic= required)', collect)
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('-y, --yes', 'do not ask before discarding by filter')
    .action(run(discard));

  return dlq;
}
