import { Presets, SingleBar } from 'cli-progress';
import { type Redrive } from './api-types';
import { type FleetClient } from './client';
import { type CommandContext } from './context';

/** How often a running redrive is polled. */
export const POLL_MS = 500;

/**
 * Polls `GET /v1/admin/dlq/redrives/:id` until the redrive is no longer RUNNING, drawing a progress
 * bar on the terminal (stderr, so `--json` output on stdout stays clean; no bar when stderr is not
 * a terminal).
 */
export async function followRedrive(
  ctx: CommandContext,
  client: FleetClient,
  started: Redrive,
): Promise<Redrive> {
  const stream = ctx.io.stderr.isTTY ? (ctx.io.stderr as NodeJS.WriteStream) : undefined;
  const bar = stream
    ? new SingleBar(
        {
          stream,
          format:
            'redrive {bar} {value}/{total} | {redriven} redriven, {skipped} skipped, {failed} failed | eta {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
        },
        Presets.shades_classic,
      )
    : undefined;
  const done = (r: Redrive) => r.redriven + r.skipped + r.failed;
  const counts = (r: Redrive) => ({ redriven: r.redriven, skipped: r.skipped, failed: r.failed });
  let redrive = started;
  bar?.start(Math.max(redrive.matched, 1), done(redrive), counts(redrive));
  try {
    while (redrive.status === 'RUNNING') {
      await ctx.sleep(POLL_MS);
      redrive = await client.get<Redrive>(`/v1/admin/dlq/redrives/${encodeURIComponent(redrive.id)}`);
      bar?.setTotal(Math.max(redrive.matched, 1));
      bar?.update(done(redrive), counts(redrive));
    }
  } finally {
    bar?.stop();
  }
  return redrive;
}
