import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  breakerControlKeys,
  breakerOverrideRecordSchema,
  breakerReplicaReportSchema,
  parseRecord,
  type BreakerCommand,
  type BreakerControlKeys,
  type BreakerOverrideRecord,
  type BreakerReplicaReport,
} from './breaker-records';
import { type RedisClient } from './client';

/** Who asked, and why (kept in the override and on every replica's report). */
export interface BreakerActor {
  actor: string;
  reason: string;
}

/** Where an operator action stands once the wait is over. */
export interface BreakerRollout {
  /** Live replicas that have a breaker of this name, as they last reported. */
  replicas: BreakerReplicaReport[];
  /** Those whose every breaker of this name applied the command. */
  applied: BreakerReplicaReport[];
  /** The others: they have not reported it yet (or a newer command superseded it). */
  pending: BreakerReplicaReport[];
  waitedMs: number;
}

/**
 * The operator's side of the fleet's breaker control (each replica runs a `BreakerControl`):
 * every live replica's report in one read, and overrides written to the hash and announced on the
 * control channel in one `MULTI`, so a replica never hears of a change it cannot read yet.
 */
export class BreakerFleet {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: BreakerControlKeys = breakerControlKeys(),
  ) {}

  /** Every live replica's report (expired ones are gone with their key), oldest replica id first. */
  async replicas(): Promise<BreakerReplicaReport[]> {
    const ids = await this.client.zrange(this.keys.replicas, 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.client.mget(ids.map((id) => this.keys.replica(id)));
    return raws.flatMap((raw) => {
      const report = raw === null ? undefined : parseRecord(breakerReplicaReportSchema, raw);
      return report ? [report] : [];
    });
  }

  /** The desired overrides, by breaker name. */
  async overrides(): Promise<Map<string, BreakerOverrideRecord>> {
    const raw = await this.client.hgetall(this.keys.overrides);
    const overrides = new Map<string, BreakerOverrideRecord>();
    for (const [name, value] of Object.entries(raw)) {
      const record = parseRecord(breakerOverrideRecordSchema, value);
      if (record) overrides.set(name, record);
    }
    return overrides;
  }

  /** Pins every replica's breaker `name` open or closed until a reset (or the other override). */
  async force(
    name: string,
    mode: BreakerOverrideRecord['mode'],
    by: BreakerActor,
  ): Promise<{ command: BreakerCommand; override: BreakerOverrideRecord }> {
    const override: BreakerOverrideRecord = {
      id: randomUUID(),
      mode,
      reason: by.reason,
      actor: by.actor,
      at: new Date().toISOString(),
    };
    const command: BreakerCommand = { id: override.id, name, action: mode === 'open' ? 'open' : 'close' };
    await this.client
      .multi()
      .hset(this.keys.overrides, name, JSON.stringify(override))
      .publish(this.keys.control, JSON.stringify(command))
      .exec();
    return { command, override };
  }

  /** Drops the override of `name` and closes that breaker on every replica (opossum's `close()`). */
  async reset(name: string): Promise<{ command: BreakerCommand; released: BreakerOverrideRecord | null }> {
    const command: BreakerCommand = { id: randomUUID(), name, action: 'reset' };
    const replies = await this.client
      .multi()
      .hget(this.keys.overrides, name)
      .hdel(this.keys.overrides, name)
      .publish(this.keys.control, JSON.stringify(command))
      .exec();
    const previous = replies?.[0]?.[1];
    const released =
      typeof previous === 'string' ? (parseRecord(breakerOverrideRecordSchema, previous) ?? null) : null;
    return { command, released };
  }

  /**
   * Polls the replicas' reports until every live replica with a breaker `name` reports
   * `commandId` applied, or `timeoutMs` passed.
   */
  async awaitApplied(
    name: string,
    commandId: string,
    options: { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<BreakerRollout> {
    const timeoutMs = options.timeoutMs ?? 2_000;
    const started = Date.now();
    for (;;) {
      const replicas = (await this.replicas()).filter((r) => r.breakers.some((b) => b.name === name));
      const done = (r: BreakerReplicaReport) =>
        r.breakers.every((b) => b.name !== name || b.lastCommandId === commandId);
      const applied = replicas.filter(done);
      const waitedMs = Date.now() - started;
      if (applied.length === replicas.length || waitedMs >= timeoutMs) {
        return { replicas, applied, pending: replicas.filter((r) => !done(r)), waitedMs };
      }
      await sleep(Math.min(options.pollMs ?? 20, timeoutMs - waitedMs));
    }
  }
}
