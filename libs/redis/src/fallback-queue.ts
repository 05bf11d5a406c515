import { randomUUID } from 'node:crypto';
import {
  FALLBACK_DEAD,
  FALLBACK_DRAIN_LOCK,
  FALLBACK_PROCESSING,
  FALLBACK_QUEUE,
  fallbackDeadEntrySchema,
  type FallbackDeadEntry,
} from '@fleet/contracts';
import { type FallbackSink, type RawRecord } from '@fleet/kafka';
import { type RedisClient } from './client';
import { DrainLock, type LockToken } from './drain-lock';
import { toFallbackRecord } from './fallback-record';
import { RedisRuntimeError } from './redis.errors';
import { FENCE, LuaScript } from './script';

/** The Redis keys of one fallback queue. */
export interface FallbackQueueKeys {
  /** Records waiting to be sent, oldest at the head. */
  queue: string;
  /** Records claimed by the active drainer and not yet acknowledged by the broker. */
  processing: string;
  /** Entries that can never be sent, each with its reason. */
  dead: string;
  /** The single-active drain lock. */
  lock: string;
}

/** The fleet's keys, from `@fleet/contracts`. */
export const DEFAULT_FALLBACK_KEYS: Readonly<FallbackQueueKeys> = Object.freeze({
  queue: FALLBACK_QUEUE,
  processing: FALLBACK_PROCESSING,
  dead: FALLBACK_DEAD,
  lock: FALLBACK_DRAIN_LOCK,
});

/**
 * The fleet's keys behind `prefix` (`''` gives the defaults). Tests use a fresh prefix each; on a
 * Redis Cluster a hash-tag prefix such as `{fallback}` keeps the four keys in one slot, which the
 * multi-key scripts need.
 */
export function fallbackQueueKeys(prefix = ''): FallbackQueueKeys {
  return {
    queue: `${prefix}${FALLBACK_QUEUE}`,
    processing: `${prefix}${FALLBACK_PROCESSING}`,
    dead: `${prefix}${FALLBACK_DEAD}`,
    lock: `${prefix}${FALLBACK_DRAIN_LOCK}`,
  };
}

export interface FallbackQueueOptions {
  /** @defaultValue {@link DEFAULT_FALLBACK_KEYS} */
  keys?: FallbackQueueKeys;
  /** Injected for tests. @defaultValue () => new Date() */
  clock?: () => Date;
}

/** What {@link FallbackQueue.claim} handed out. */
export interface ClaimResult {
  /** Raw list entries, oldest first. They stay in the processing list until acked or requeued. */
  entries: string[];
  /** True when these were left in processing by an earlier drainer that stopped mid-batch. */
  recovered: boolean;
}

/** Most entries one claim moves: keeps each script (which blocks Redis while it runs) short. */
export const MAX_CLAIM = 1_000;

// KEYS: queue, processing, lock. ARGV: token, max.
const CLAIM = new LuaScript(
  'fallback-claim',
  `${FENCE}
local pending = redis.call('LRANGE', KEYS[2], 0, -1)
if #pending > 0 then return {1, pending} end
local moved = {}
for i = 1, tonumber(ARGV[2]) do
  local entry = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not entry then break end
  moved[i] = entry
end
return {0, moved}
`,
);

// KEYS: processing, lock. ARGV: token.
const ACK = new LuaScript(
  'fallback-ack',
  `${FENCE}
local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
`,
);

// KEYS: processing, lock. ARGV: token, raw entry.
const ACK_ENTRY = new LuaScript(
  'fallback-ack-entry',
  `${FENCE}
return redis.call('LREM', KEYS[1], 1, ARGV[2])
`,
);

// KEYS: processing, dead, lock. ARGV: token, raw entry, dead entry JSON.
const DEAD_LETTER = new LuaScript(
  'fallback-dead-letter',
  `${FENCE}
local removed = redis.call('LREM', KEYS[1], 1, ARGV[2])
if removed == 1 then redis.call('RPUSH', KEYS[2], ARGV[3]) end
return removed
`,
);

// KEYS: queue, processing, lock. ARGV: token.
// Moving the tail of processing to the head of the queue, one by one, keeps the original order.
const REQUEUE = new LuaScript(
  'fallback-requeue',
  `${FENCE}
local n = 0
while redis.call('LMOVE', KEYS[2], KEYS[1], 'RIGHT', 'LEFT') do n = n + 1 end
return n
`,
);

/**
 * The durable Redis fallback list (seed 004) and every step its drainer needs.
 *
 * Producers {@link push} records while Kafka is unavailable (it is the kafka lib's `FallbackSink`).
 * The drainer holds the {@link drainLock} and moves records through three lists, each step one Lua
 * script, so a record is always in exactly one of them — never nowhere:
 *
 * ```
 * queue ──claim──▶ processing ──ack──▶ (sent)
 *   ▲                  │ ├──deadLetter──▶ dead
 *   └─────requeue──────┘
 * ```
 *
 * Drain steps take the lock token and are refused (`LOCK_LOST`) when the lock is not the caller's.
 */
export class FallbackQueue implements FallbackSink {
  readonly keys: Readonly<FallbackQueueKeys>;
  private readonly clock: () => Date;

  constructor(
    private readonly client: RedisClient,
    options: FallbackQueueOptions = {},
  ) {
    this.keys = Object.freeze({ ...(options.keys ?? DEFAULT_FALLBACK_KEYS) });
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Appends one fallback record per Kafka record (one `RPUSH`, so all or none), each with a fresh id.
   * @throws {@link RedisRuntimeError} `RECORD_NOT_ENCODABLE` before anything is written.
   */
  async push(topic: string, records: ReadonlyArray<Omit<RawRecord, 'topic'>>, reason: string): Promise<void> {
    if (records.length === 0) return;
    const queuedAt = this.clock();
    const entries = records.map((record) =>
      JSON.stringify(toFallbackRecord(topic, record, reason, { id: randomUUID(), queuedAt })),
    );
    await this.client.rpush(this.keys.queue, ...entries);
  }

  /** A lock over this queue's lock key; only its holder may claim. */
  drainLock(ttlMs: number, token?: string): DrainLock {
    return new DrainLock(this.client, { key: this.keys.lock, ttlMs, token });
  }

  /**
   * Hands out the next batch. When the processing list is not empty — a drainer died mid-batch —
   * returns all of it (`recovered: true`) and takes nothing new; else moves up to `max` entries from
   * the head of the queue to the processing list and returns them.
   */
  async claim(lock: LockToken, max: number): Promise<ClaimResult> {
    if (!Number.isInteger(max) || max < 1 || max > MAX_CLAIM) {
      throw new RangeError(`claim: max must be an integer from 1 to ${MAX_CLAIM}, got ${max}`);
    }
    const reply = await CLAIM.run(
      this.client,
      [this.keys.queue, this.keys.processing, this.keys.lock],
      [lock.token, max],
    );
    if (
      !Array.isArray(reply) ||
      reply.length !== 2 ||
      !Array.isArray(reply[1]) ||
      !reply[1].every((e) => typeof e === 'string')
    ) {
      throw new RedisRuntimeError('UNEXPECTED_REPLY', `claim: unexpected reply ${JSON.stringify(reply)}`);
    }
    return { recovered: reply[0] === 1, entries: reply[1] as string[] };
  }

  /** Everything claimed was sent: empties the processing list. @returns how many entries it held */
  async ack(lock: LockToken): Promise<number> {
    return Number(await ACK.run(this.client, [this.keys.processing, this.keys.lock], [lock.token]));
  }

  /** One claimed entry was sent on its own. @returns whether it was in the processing list */
  async ackEntry(lock: LockToken, raw: string): Promise<boolean> {
    return (
      (await ACK_ENTRY.run(this.client, [this.keys.processing, this.keys.lock], [lock.token, raw])) === 1
    );
  }

  /**
   * Moves one claimed entry to the dead list as `{ raw, reason, deadAt }`.
   * @returns whether it was in the processing list (false: nothing changed)
   */
  async deadLetter(lock: LockToken, raw: string, reason: string): Promise<boolean> {
    const entry: FallbackDeadEntry = { raw, reason, deadAt: this.clock().toISOString() };
    const removed = await DEAD_LETTER.run(
      this.client,
      [this.keys.processing, this.keys.dead, this.keys.lock],
      [lock.token, raw, JSON.stringify(entry)],
    );
    return removed === 1;
  }

  /**
   * Sending failed: puts everything in the processing list back at the head of the queue, in its
   * original order, so the next claim retries the same records first.
   * @returns how many entries moved
   */
  async requeue(lock: LockToken): Promise<number> {
    return Number(
      await REQUEUE.run(this.client, [this.keys.queue, this.keys.processing, this.keys.lock], [lock.token]),
    );
  }

  /** Records waiting (`LLEN` of the queue). */
  length(): Promise<number> {
    return this.client.llen(this.keys.queue);
  }

  /** Records claimed and not yet acknowledged. */
  processingLength(): Promise<number> {
    return this.client.llen(this.keys.processing);
  }

  /** Dead entries. */
  deadLength(): Promise<number> {
    return this.client.llen(this.keys.dead);
  }

  /** The first `count` dead entries, oldest first (for operators and tests). */
  async readDead(count = 100): Promise<FallbackDeadEntry[]> {
    const raws = await this.client.lrange(this.keys.dead, 0, count - 1);
    return raws.map((raw) => fallbackDeadEntrySchema.parse(JSON.parse(raw)));
  }
}
