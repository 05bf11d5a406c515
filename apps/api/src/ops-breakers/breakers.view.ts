import { type BreakerOverrideRecord, type BreakerReplicaReport } from '@fleet/redis';
import {
  BREAKER_STATES,
  type BreakerView,
  type BreakersView,
  type ReplicaBreakerView,
} from './breakers.schemas';

/** Every live replica's reports, regrouped per breaker name (sorted), with the desired override. */
export function toBreakersView(
  reports: readonly BreakerReplicaReport[],
  overrides: ReadonlyMap<string, BreakerOverrideRecord>,
): BreakersView {
  const byName = new Map<string, ReplicaBreakerView[]>();
  for (const report of reports) {
    for (const breaker of report.breakers) {
      const rows = byName.get(breaker.name) ?? [];
      rows.push({
        app: report.app,
        replica: report.replica,
        state: breaker.state,
        override: breaker.override,
        counts: breaker.counts,
        lastCommandId: breaker.lastCommandId,
        updatedAt: report.updatedAt,
      });
      byName.set(breaker.name, rows);
    }
  }
  const breakers: BreakerView[] = [...byName.keys()].sort().map((name) => {
    const replicas = byName
      .get(name)!
      .sort((a, b) => a.app.localeCompare(b.app) || a.replica.localeCompare(b.replica));
    const states = Object.fromEntries(BREAKER_STATES.map((s) => [s, 0])) as BreakerView['states'];
    for (const replica of replicas) states[replica.state]++;
    return { name, override: overrides.get(name) ?? null, states, replicas };
  });
  return { liveReplicas: reports.length, breakers };
}

/** A replica as an action's answer names it, with its state of breaker `name` (which it has). */
export function replicaRef(report: BreakerReplicaReport, name: string) {
  const breaker = report.breakers.find((b) => b.name === name)!;
  return { app: report.app, replica: report.replica, state: breaker.state };
}
