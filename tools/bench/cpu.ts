import { readdirSync, readFileSync } from 'node:fs';

/** Names a group of processes by their command line. */
export type CpuGroups = Record<string, (cmdline: string) => boolean>;

/**
 * CPU seconds (user + system) used so far by the processes of each group, from Linux /proc.
 * Processes that ended are not counted, so sample while they run.
 */
export function cpuByGroup(groups: CpuGroups): Record<string, number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const totals: Record<string, number> = Object.fromEntries(Object.keys(groups).map((g) => [g, 0]));
  for (const pid of readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const group = Object.keys(groups).find((g) => groups[g]!(cmdline));
      if (!group) continue;
      // Fields after the command name (which may hold spaces), from `) `: utime is 14th, stime 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      totals[group]! += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      // the process ended while we read it
    }
  }
  return totals;
}

/** `group 1.2 s, …`: CPU used by each group since `before` (a {@link cpuByGroup} sample). */
export function cpuSince(groups: CpuGroups, before: Record<string, number>): string {
  const after = cpuByGroup(groups);
  return Object.keys(groups)
    .map((g) => `${g} ${(after[g]! - before[g]!).toFixed(1)} s`)
    .join(', ');
}
