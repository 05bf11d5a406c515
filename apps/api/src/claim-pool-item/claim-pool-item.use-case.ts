import { Inject, Injectable } from '@nestjs/common';
import { onConnection, type DataSource, type Sql } from '@fleet/db';
import { currentTraceparent } from '@fleet/outbox';
import { PoolStore, type ClaimResult, type PoolName } from '@fleet/pools';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { ApiError } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { rethrowPoolArgument } from '../pools/pool-argument';
import {
  type ClaimDungeonInput,
  type ClaimedItem,
  type ClaimEncounterInput,
  type ClaimNpcInput,
  type ClaimPoiInput,
  type ClaimQuestInput,
} from '../pools/pools.schemas';

/**
 * Claims one item of a content pool (seed 001): one SQL statement each (`pool_claim_*`, `FOR UPDATE
 * SKIP LOCKED`), so two players never get the same item and a claim never waits for another. The
 * same statement enqueues the pool's refill (one per pool at a time) when the claim leaves it below
 * its minimum, or finds it empty. Nothing that fits → 404 `POOL_EMPTY` naming the pool and the refill.
 */
@Injectable()
export class ClaimPoolItem {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(PoolStore) private readonly store: PoolStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {}

  quest(input: ClaimQuestInput): Promise<ClaimedItem> {
    return this.claim('quests', `levels ${input.minLevel}–${input.maxLevel}`, (sql) =>
      this.store.claimQuest(sql, { ...input, traceparent: currentTraceparent() }),
    );
  }

  npc(input: ClaimNpcInput): Promise<ClaimedItem> {
    return this.claim('npcs', undefined, (sql) =>
      this.store.claimNpc(sql, {
        campaignSeed: input.campaignSeed,
        location: input.location,
        claimedBy: input.characterId,
        traceparent: currentTraceparent(),
      }),
    );
  }

  encounter(input: ClaimEncounterInput): Promise<ClaimedItem> {
    const fits = `${input.locationType} with challenge rating ${input.playerLevel * 0.5}–${input.playerLevel * 1.5}`;
    return this.claim('encounters', fits, (sql) =>
      this.store.claimEncounter(sql, {
        locationType: input.locationType,
        playerLevel: input.playerLevel,
        claimedBy: input.characterId,
        campaignSeed: input.campaignSeed,
        location: input.location,
        traceparent: currentTraceparent(),
      }),
    );
  }

  dungeon(input: ClaimDungeonInput): Promise<ClaimedItem> {
    return this.claim('dungeons', undefined, (sql) =>
      this.store.claimDungeon(sql, {
        claimedBy: input.characterId,
        campaignSeed: input.campaignSeed,
        location: input.location,
        traceparent: currentTraceparent(),
      }),
    );
  }

  poi(input: ClaimPoiInput): Promise<ClaimedItem> {
    return this.claim(
      'pois',
      undefined,
      (sql) =>
        this.store.claimPoi(sql, {
          campaignSeed: input.campaignSeed,
          claimedBy: input.characterId,
          traceparent: currentTraceparent(),
        }),
      input.campaignSeed,
    );
  }

  private async claim<T extends object>(
    pool: PoolName,
    /** What the claim asked for beyond "any item", for the empty answer. */
    fits: string | undefined,
    run: (sql: Sql) => Promise<ClaimResult<T>>,
    campaignSeed?: string,
  ): Promise<ClaimedItem> {
    // A raw pooled connection, the claim's statement prepared on it once: a claim is one round
    // trip without TypeORM's per-query machinery (bench:pool-claims measures the difference).
    const result = await onConnection(this.dataSource, run).catch(rethrowPoolArgument);
    const { item, available } = result;
    const refillJobId = result.refillJobId ?? null;
    this.metrics.poolClaims.inc({ pool, outcome: item ? 'claimed' : 'empty' });
    if (item) return { pool, item: item as Record<string, unknown>, available, refillJobId };
    const name = campaignSeed ? `${pool} of campaign ${campaignSeed}` : pool;
    // SKIP LOCKED: items other claims hold right now are counted as available but not offered.
    const what =
      available === 0
        ? `pool ${name} is empty`
        : `no item of pool ${name} is free for this claim${fits ? ` (${fits})` : ''}: its ${available} ` +
          `available ${available === 1 ? 'item is' : 'items are'} ${fits ? 'outside it or ' : ''}being claimed right now`;
    const refill = refillJobId ? `; refill job ${refillJobId} is on its way` : '';
    throw new ApiError(404, 'POOL_EMPTY', `${what}${refill}`, {
      pool,
      ...(campaignSeed ? { campaignSeed } : {}),
      available,
      refillJobId,
    });
  }
}
