import { Command } from 'commander';
import { type EventLife } from './api-types';
import { type Run } from './context';
import { formatFields, formatTable, shortTime } from './table';

export function renderEventLife(life: EventLife): string {
  const fields = formatFields([
    ['event', life.eventId],
    ['topic', life.topic],
    ['key', life.key],
    ['type', life.eventType ?? null],
    ['trace', life.jaegerUrl ?? life.traceId],
  ]);
  const groups = formatTable(life.groups, [
    { header: 'GROUP', value: (g) => g.group },
    { header: 'OUTCOME', value: (g) => g.outcome },
    { header: 'DELIVERIES', value: (g) => g.attempts, align: 'right' },
    { header: 'REDRIVES', value: (g) => g.redrives ?? 0, align: 'right' },
  ]);
  const steps = formatTable(life.steps, [
    { header: 'AT', value: (s) => shortTime(s.at) },
    { header: 'STEP', value: (s) => s.kind },
    { header: 'GROUP', value: (s) => s.group },
    { header: 'DETAIL', value: (s) => s.detail },
  ]);
  return `${fields}\n${groups}\n${steps}`;
}

/** `fleetctl event …`: an event's life. */
export function eventCommand(run: Run): Command {
  const event = new Command('event').description("an event's life by its id");
  event
    .command('trace')
    .description('outbox, publish, each group’s deliveries, retries, dead letters and redrives, in order')
    .argument('<event-id>', 'the event id (x-event-id; a chat message’s id)')
    .action(
      run(async (ctx, eventId: string) => {
        const life = await ctx.client().get<EventLife>(`/v1/admin/events/${encodeURIComponent(eventId)}`);
        ctx.print(life, () => renderEventLife(life));
      }),
    );
  return event;
}
