import { Inject, Injectable } from '@nestjs/common';
import { sqlOf, type DataSource } from '@fleet/db';
import { AuditLog } from '@fleet/ops';
import { type BreakerFleet } from '@fleet/redis';
import { DATA_SOURCE } from '../app.tokens';
import { notFound } from '../http/api.errors';
import { type BreakerAction, type BreakerActionResult, type BreakersView } from './breakers.schemas';
import { BREAKER_FLEET } from './breakers.tokens';
import { replicaRef, toBreakersView } from './breakers.view';

/** How long an action waits for every live replica to report it applied. */
const ROLLOUT_TIMEOUT_MS = 2_000;

/**
 * The operator's breaker actions: validate (the breaker exists somewhere) → write the override and
 * announce it → wait until every live replica reports it applied → audit, with the replicas that
 * did. The audit row comes last because it records how far the action got; an action whose audit
 * insert fails answers 500, and the operator sees that the log is missing it.
 */
@Injectable()
export class BreakerActions {
  constructor(
    @Inject(BREAKER_FLEET) private readonly fleet: BreakerFleet,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async list(): Promise<BreakersView> {
    const [reports, overrides] = await Promise.all([this.fleet.replicas(), this.fleet.overrides()]);
    return toBreakersView(reports, overrides);
  }

  /** `open` / `close`: pins every replica's breaker until a reset. */
  async force(
    name: string,
    action: 'open' | 'close',
    by: { actor: string; reason: string },
  ): Promise<BreakerActionResult> {
    await this.mustExist(name, false);
    const { command, override } = await this.fleet.force(name, action === 'open' ? 'open' : 'closed', by);
    return this.rollOut(name, action, by, { commandId: command.id, override });
  }

  /** `reset`: drops the override and closes the breaker on every replica. */
  async reset(name: string, by: { actor: string; reason?: string }): Promise<BreakerActionResult> {
    await this.mustExist(name, true);
    const { command, released } = await this.fleet.reset(name);
    return this.rollOut(name, 'reset', by, { commandId: command.id, override: null, released });
  }

  private async mustExist(name: string, orOverridden: boolean): Promise<void> {
    const reported = (await this.fleet.replicas()).some((r) => r.breakers.some((b) => b.name === name));
    if (reported) return;
    // A reset may also clear an override no live replica reports (every replica of it is down).
    if (orOverridden && (await this.fleet.overrides()).has(name)) return;
    throw notFound(`no live replica reports a breaker named ${JSON.stringify(name)}`);
  }

  private async rollOut(
    name: string,
    action: BreakerAction,
    by: { actor: string; reason?: string },
    done: Pick<BreakerActionResult, 'commandId' | 'override' | 'released'>,
  ): Promise<BreakerActionResult> {
    const rollout = await this.fleet.awaitApplied(name, done.commandId, { timeoutMs: ROLLOUT_TIMEOUT_MS });
    const applied = rollout.applied.map((r) => replicaRef(r, name));
    const pending = rollout.pending.map((r) => replicaRef(r, name));
    await new AuditLog(sqlOf(this.dataSource.manager)).record({
      actor: by.actor,
      action: `breaker.${action}`,
      target: name,
      reason: by.reason,
      count: applied.length,
      detail: { commandId: done.commandId, applied, pending, waitedMs: rollout.waitedMs },
    });
    return {
      breaker: name,
      action,
      ...done,
      applied,
      pending,
      complete: pending.length === 0,
      waitedMs: rollout.waitedMs,
    };
  }
}
