import { type DataSource, sqlOf, type Sql } from '@fleet/db';
import { JobAttemptFailed, JobRejected, type JobAttempt, type JobKind } from '@fleet/job-worker';
import { type Job } from '@fleet/jobs';
import { type LlmClient } from '@fleet/llm';
import {
  GENERATE_JOB_OF,
  LOCATION_TYPES,
  OBJECTIVE_TYPES,
  POI_KINDS,
  callAnswer,
  callSchema,
  itemSchemas,
  poolJobInputSchemas,
  questRewardBounds,
  rejectionOf,
  MAP_SIZE,
  type CallTarget,
  type PoolItem,
  type PoolName,
  type PoolStore,
} from '@fleet/pools';
import { type PoolMetrics } from '../pools/pool.metrics';

export interface GenerateItemsOptions {
  pool: PoolName;
  dataSource: DataSource;
  store: PoolStore;
  llm: LlmClient;
  metrics: PoolMetrics;
  /** POOL_ITEMS_PER_CALL. */
  itemsPerCall: number;
  /** POOL_MAX_TOKENS. */
  maxTokens: number;
  /** POOL_MAX_JOB_COUNT. */
  maxCount: number;
  /** POOL_MAX_REJECTIONS_PER_ITEM. */
  maxRejectionsPerItem: number;
  /** POOL_QUEST_LEVEL_RANGE: quests' range when the job names none. */
  questLevelRange: readonly [number, number];
  /** POOL_ENCOUNTER_CR_RANGE: encounters' range when the job names none. */
  encounterCrRange: readonly [number, number];
}

/** What a generation job stores as its result. */
export interface GenerateItemsResult {
  pool: PoolName;
  campaignSeed?: string;
  /** The job's `count`. */
  requested: number;
  /** Items this job has stored, over all its attempts (= requested when it completes). */
  stored: number;
  /** Items this attempt stored (the rest were stored by an earlier, interrupted attempt). */
  storedThisAttempt: number;
  rejected: Record<string, number>;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** (prompt + completion tokens) / items stored by this attempt. */
  tokensPerItem: number | null;
}

const SYSTEM_PROMPT =
  'You write content for a fantasy role-playing game. Answer with JSON only, exactly matching the ' +
  'schema: an object with an "items" array. Every item must be new and different from the others ' +
  'and from the names you are told already exist.';

/** How many existing names the prompt lists, newest first, so the model avoids them. */
const AVOID_NAMES = 40;

/**
 * `generate_quests`, `generate_npcs`, `generate_encounters`, `generate_dungeons`, `generate_pois`
 * (seed 001): `count` items in calls of `itemsPerCall` (one prompt for several items), each item
 * checked (schema, then level-appropriate rewards / CR in range) and stored at once under the job
 * and its index — an item whose normalized title is already available in the pool is refused and
 * generated again. A repeated attempt (after a crash, a reaped lease, a retry) starts from the
 * indexes still missing, so a job never makes more than its `count`. Refused items are bounded
 * (`maxRejectionsPerItem` × count): past it the attempt fails (retried, then FAILED).
 */
export class GenerateItems implements JobKind {
  readonly kind: string;
  private readonly sql: Sql;
  private readonly input;

  constructor(private readonly o: GenerateItemsOptions) {
    this.kind = GENERATE_JOB_OF[o.pool];
    this.sql = sqlOf(o.dataSource.manager);
    this.input = poolJobInputSchemas(o.maxCount)[this.kind as (typeof GENERATE_JOB_OF)[PoolName]];
  }

  async run({ job, signal, progress }: JobAttempt): Promise<GenerateItemsResult> {
    const { pool, store, llm, metrics } = this.o;
    const parsed = this.input.safeParse(job.input);
    if (!parsed.success) {
      throw new JobRejected(
        'INPUT_INVALID',
        `${this.kind} input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const input = parsed.data as {
      count: number;
      level_range?: [number, number];
      cr_range?: [number, number];
      campaign_seed?: string;
    };
    const campaignSeed = input.campaign_seed;
    if (pool === 'pois' && !(await store.campaign(this.sql, campaignSeed!))) {
      throw new JobRejected('CAMPAIGN_NOT_FOUND', `campaign ${campaignSeed} does not exist`);
    }
    const levelRange = input.level_range ?? this.o.questLevelRange;
    const crRange = input.cr_range ?? this.o.encounterCrRange;

    const done = new Set(await store.indexesOfJob(this.sql, pool, job.id));
    const missing = [...Array(input.count).keys()].filter((i) => !done.has(i));
    const result: GenerateItemsResult = {
      pool,
      ...(campaignSeed ? { campaignSeed } : {}),
      requested: input.count,
      stored: done.size,
      storedThisAttempt: 0,
      rejected: {},
      llmCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      tokensPerItem: null,
    };
    let rejectionsLeft = input.count * this.o.maxRejectionsPerItem;
    await progress(Math.floor((100 * done.size) / input.count), 'generate');

    for (let call = 0; missing.length > 0; call++) {
      signal.throwIfAborted();
      const want = Math.min(this.o.itemsPerCall, missing.length);
      // Quests: one level per call, spread over the range by the first missing index, so a batch
      // covers its range and a retried job asks the same levels again.
      const target: CallTarget = {
        ...(pool === 'quests'
          ? { level: levelRange[0] + (missing[0]! % (levelRange[1] - levelRange[0] + 1)) }
          : {}),
        ...(pool === 'encounters' ? { crRange } : {}),
      };
      const avoid = await store.availableTitles(this.sql, pool, campaignSeed, AVOID_NAMES);
      const answer = await llm.completeJson({
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          {
            role: 'user',
            content: this.prompt(want, target, avoid, `${job.id.slice(0, 8)}-${job.attempts}-${call}`),
          },
        ],
        // Asked for narrowed to this call (a constrained decoder stays inside it); accepted as any
        // items array, so that each item is checked on its own and one bad item costs only itself.
        schema: callSchema(pool, want, target),
        accept: callAnswer,
        schemaName: `pool_${pool}`,
        temperature: 0.9,
        maxTokens: this.o.maxTokens,
        signal,
      });
      signal.throwIfAborted();
      result.llmCalls += answer.requests;
      result.promptTokens += answer.usage.promptTokens;
      result.completionTokens += answer.usage.completionTokens;

      let storedNow = 0;
      for (const raw of answer.value.items) {
        if (missing.length === 0) break;
        const shaped = itemSchemas[pool].safeParse(raw);
        const item = shaped.success ? (shaped.data as PoolItem) : undefined;
        let reason: string | undefined = item
          ? rejectionOf(pool, item, { ...target, levelRange, crRange })
          : 'invalid_item';
        if (item && !reason) {
          const outcome = await store.insertItem(this.sql, pool, item as never, {
            jobId: job.id,
            itemIndex: missing[0]!,
            model: answer.model,
            ...(campaignSeed ? { campaignSeed } : {}),
          });
          if (outcome === 'duplicate') reason = 'duplicate';
          else {
            // 'exists': a concurrent attempt of this job stored this index first; either way it is done.
            missing.shift();
            if (outcome === 'inserted') {
              storedNow++;
              metrics.generated.inc({ pool });
            }
            continue;
          }
        }
        const why = reason ?? 'invalid_item';
        result.rejected[why] = (result.rejected[why] ?? 0) + 1;
        metrics.rejected.inc({ pool, reason: why });
        rejectionsLeft--;
      }
      result.storedThisAttempt += storedNow;
      if (storedNow > 0) {
        metrics.tokensPerItem.observe(
          { pool },
          (answer.usage.promptTokens + answer.usage.completionTokens) / storedNow,
        );
      }
      result.stored = input.count - missing.length;
      if (missing.length > 0 && rejectionsLeft < 0) {
        throw new JobAttemptFailed(
          'ITEMS_REJECTED',
          `${pool}: ${Object.entries(result.rejected)
            .map(([r, n]) => `${n} ${r}`)
            .join(
              ', ',
            )} — more refused items than POOL_MAX_REJECTIONS_PER_ITEM allows; ${result.stored} of ${input.count} stored`,
        );
      }
      await progress(Math.min(99, Math.floor((100 * result.stored) / input.count)), 'generate');
    }
    const tokens = result.promptTokens + result.completionTokens;
    result.tokensPerItem =
      result.storedThisAttempt > 0 ? Math.round(tokens / result.storedThisAttempt) : null;
    return result;
  }

  /**
   * A pool still below its minimum after this batch (it was far below, or players claimed
   * meanwhile) gets its next batch at once, instead of at the next hourly check: a check from
   * empty fills every pool to its minimum. Deduplicated like every refill.
   */
  async onCompleted(job: Job): Promise<void> {
    const result = job.result as GenerateItemsResult | null;
    const campaignSeed = result?.campaignSeed;
    const available = await this.o.store.available(this.sql, this.o.pool, campaignSeed);
    const next = await this.o.store.refillIfLow(this.sql, this.o.pool, available, campaignSeed);
    if (next) this.o.metrics.refills.inc({ pool: this.o.pool, trigger: 'batch' });
  }

  /** The user message of one call: what to write, the game's rules, names to avoid. */
  private prompt(count: number, target: CallTarget, avoid: string[], variation: string): string {
    const lines: string[] = [];
    switch (this.o.pool) {
      case 'quests': {
        const level = target.level!;
        const { xp, gold } = questRewardBounds(level);
        lines.push(
          `Write ${count} quests for level ${level} characters.`,
          `Each has a title, a two-sentence description, 1–3 objectives of these types: ${OBJECTIVE_TYPES.join(', ')}` +
            ' (with a target and a count), level ' +
            `${level}, an xp_reward from ${xp[0]} to ${xp[1]} and a gold_reward from ${gold[0]} to ${gold[1]}.`,
        );
        break;
      }
      case 'npcs':
        lines.push(
          `Write ${count} non-player characters ready to role-play: name, role (e.g. blacksmith), personality,`,
          '2–5 traits, how they speak (speech_style) and a short backstory.',
        );
        break;
      case 'encounters': {
        const [lo, hi] = target.crRange!;
        lines.push(
          `Write ${count} combat encounters with a challenge rating from ${lo} to ${hi}.`,
          `Each has a name, a location_type (${LOCATION_TYPES.join(', ')}), the challenge_rating, 1–4 kinds of enemies`,
          '(name, count, their own challenge_rating) and a description of the scene.',
        );
        break;
      }
      case 'dungeons':
        lines.push(
          `Write ${count} small dungeons for a mini-adventure: name, description, recommended_level,`,
          '3–6 rooms (name, description), 1–4 encounters (the room and what happens) and 1–5 loot items with a rarity.',
        );
        break;
      case 'pois':
        lines.push(
          `Write ${count} points of interest for a campaign map: name, kind (${POI_KINDS.join(', ')}), description,`,
          `and a position {x, y} from 0 to ${MAP_SIZE}, spread over the map.`,
        );
        break;
    }
    if (avoid.length > 0) lines.push(`These already exist; do not reuse their names: ${avoid.join('; ')}.`);
    lines.push(`Variation: ${variation}.`);
    return lines.join('\n');
  }
}
